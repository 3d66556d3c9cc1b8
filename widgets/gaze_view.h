// The gaze page of the workbench: human scanpaths of the current stimulus over the model's map
// (or human fixation density and the model's map side by side, or blended), a model scanpath
// synthesised from the map, playback with a timeline slider and speed, the metrics panel (each
// subject, the mean over subjects, the inter-observer baseline) and the space-time cube.
//
//     GazeView view;
//     view.openFixations("cocosearch18.json");                       // throws fovea::Error
//     view.setStimulus("images/000000400966.jpg", rolloutGrid, spec.preprocessing);
//     view.setDisplay(GazeDisplay::SideBySide);
//     view.setTime(0.8);                                             // fixations up to 0.8 s
#pragma once

#include "core/gaze/gaze_data.h"
#include "core/gaze/saliency_metrics.h"
#include "core/image/preprocess.h"
#include "widgets/scanpath_painter.h"

#include <QImage>
#include <QString>
#include <QThreadPool>
#include <QWidget>

#include <opencv2/core/mat.hpp>

#include <memory>

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;
class QTabWidget;
class QTableWidget;
class QTimer;
class QToolButton;

namespace fovea {

class ScanpathCubeView;

class GazeView : public QWidget {
    Q_OBJECT
public:
    explicit GazeView(QWidget* parent = nullptr);
    ~GazeView() override;

    // Reads a gaze file (any format readGazeFile knows). Throws fovea::Error.
    void openFixations(const QString& path);
    void setDataset(GazeDataset data);
    const GazeDataset& dataset() const { return m_data; }
    QString fixationsPath() const { return m_fixationsPath; }

    // The stimulus: an image file, whose fixations are those of the dataset's stimulus with the
    // same file name; `viewMap` is the model's map over its input view (any resolution), put
    // back on the image through `preprocessing`. An empty map leaves the model out.
    void setStimulus(const QString& imagePath, const cv::Mat& viewMap, const Preprocessing& preprocessing);
    // The dataset's name for the stimulus shown, empty when the dataset has none for it.
    QString stimulusKey() const { return m_key; }

    void setDisplay(GazeDisplay display);
    void setColouring(ScanpathColouring colouring);
    void setModelScanpath(bool shown);
    // Playback: fixations that start up to `seconds` are shown.
    void setTime(double seconds);
    double time() const { return m_time; }
    double duration() const { return m_duration; }
    void play();
    void pause();
    bool playing() const;
    void setSpeed(double factor);

    // "scanpaths" or "cube".
    QString currentPage() const;
    void setCurrentPage(const QString& page);
    const ScanpathPainter& figure() const { return m_painter; }
    ScanpathCubeView* cube() const { return m_cube; }
    QTableWidget* metricsTable() const { return m_table; }
    bool metricsPending() const { return m_pendingMetrics > 0; }
    // PNG, SVG or PDF of the scanpath figure; the cube page exports PNG only. Throws fovea::Error.
    void exportFigure(const QString& path, int dpi = 300);

Q_SIGNALS:
    void gazeUpdated();
    void metricsUpdated();

private:
    void rebuild();
    void updatePicture();
    void startMetrics();
    void showMetrics(quint64 generation, const std::vector<std::pair<QString, SaliencyScores>>& rows, bool fromJob);

    GazeDataset m_data;
    QString m_fixationsPath;
    QString m_imagePath, m_key;
    QImage m_image;
    cv::Mat m_viewMap;
    Preprocessing m_preprocessing;
    cv::Mat1f m_modelMap, m_density;
    Scanpath m_modelPath;
    bool m_showModelPath = true;
    double m_time = 0.0, m_duration = 0.0, m_speed = 1.0;
    ScanpathPainter m_painter;

    QComboBox* m_displayBox = nullptr;
    QComboBox* m_colourBox = nullptr;
    QCheckBox* m_modelBox = nullptr;
    QToolButton* m_playButton = nullptr;
    QSlider* m_slider = nullptr;
    QComboBox* m_speedBox = nullptr;
    QLabel* m_timeLabel = nullptr;
    QTabWidget* m_pages = nullptr;
    QWidget* m_canvas = nullptr;
    ScanpathCubeView* m_cube = nullptr;
    QTableWidget* m_table = nullptr;
    QTimer* m_timer = nullptr;
    QThreadPool m_pool;
    quint64 m_generation = 0;
    int m_pendingMetrics = 0;
};

}  // namespace fovea
