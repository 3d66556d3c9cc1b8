#include "widgets/gaze_view.h"

#include "core/gaze/gaze_eval.h"
#include "core/gaze/gaze_io.h"
#include "core/gaze/scanpath_synthesis.h"
#include "core/util/error.h"
#include "widgets/figure_export.h"
#include "widgets/scanpath_cube_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QImageReader>
#include <QLabel>
#include <QPainter>
#include <QPointer>
#include <QSaveFile>
#include <QSlider>
#include <QSplitter>
#include <QStyle>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace fovea {
namespace {

// Paints the ScanpathPainter into the whole widget.
class GazeCanvas : public QWidget {
public:
    GazeCanvas(const ScanpathPainter& painter, QWidget* parent) : QWidget(parent), m_painter(painter) {
        setMinimumSize(200, 150);
    }

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter painter(this);
        painter.setRenderHint(QPainter::Antialiasing, true);
        painter.setRenderHint(QPainter::SmoothPixmapTransform, true);
        m_painter.paint(painter, QRectF(rect()).adjusted(6, 4, -6, -4));
    }

private:
    const ScanpathPainter& m_painter;
};

constexpr int kSliderSteps = 1000;

// The dataset's stimulus for an image file: the same file name, else the same stem.
std::string stimulusFor(const GazeDataset& data, const QString& imagePath) {
    const QFileInfo file(imagePath);
    for (const std::string& key : data.stimuli()) {
        if (QFileInfo(QString::fromStdString(key)).fileName() == file.fileName()) return key;
    }
    for (const std::string& key : data.stimuli()) {
        if (QFileInfo(QString::fromStdString(key)).completeBaseName() == file.completeBaseName()) return key;
    }
    return {};
}

}  // namespace

GazeView::GazeView(QWidget* parent) : QWidget(parent) {
    m_pool.setMaxThreadCount(1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* controls = new QHBoxLayout();
    m_displayBox = new QComboBox(this);
    m_displayBox->addItems(
        {tr("Scanpaths over the model's map"), tr("People and model side by side"), tr("People and model blended")});
    m_colourBox = new QComboBox(this);
    m_colourBox->addItems({tr("Colour by time"), tr("Colour by subject")});
    // Several people's paths are told apart by colour; time colours suit one path at a time.
    m_colourBox->setCurrentIndex(1);
    ScanpathStyle bySubject;
    bySubject.colouring = ScanpathColouring::Subject;
    m_painter.setStyle(bySubject);
    m_modelBox = new QCheckBox(tr("Model scanpath"), this);
    m_modelBox->setChecked(true);
    m_playButton = new QToolButton(this);
    m_playButton->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
    m_playButton->setToolTip(tr("Play the scanpaths over time"));
    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setRange(0, kSliderSteps);
    m_slider->setValue(kSliderSteps);
    m_slider->setToolTip(tr("Time: fixations that started up to here are shown"));
    m_speedBox = new QComboBox(this);
    m_speedBox->addItems({"0.25x", "0.5x", "1x", "2x", "4x"});
    m_speedBox->setCurrentIndex(2);
    m_timeLabel = new QLabel(this);
    m_timeLabel->setMinimumWidth(90);
    controls->addWidget(m_displayBox);
    controls->addWidget(m_colourBox);
    controls->addWidget(m_modelBox);
    controls->addSpacing(12);
    controls->addWidget(m_playButton);
    controls->addWidget(m_slider, 1);
    controls->addWidget(m_speedBox);
    controls->addWidget(m_timeLabel);
    layout->addLayout(controls);

    auto* splitter = new QSplitter(Qt::Vertical, this);
    m_pages = new QTabWidget(splitter);
    m_pages->setDocumentMode(true);
    m_canvas = new GazeCanvas(m_painter, m_pages);
    m_pages->addTab(m_canvas, tr("Scanpaths"));
    m_cube = new ScanpathCubeView(m_pages);
    m_pages->addTab(m_cube, tr("Space-time cube"));
    m_table = new QTableWidget(splitter);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->setVisible(false);
    splitter->addWidget(m_pages);
    splitter->addWidget(m_table);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);
    layout->addWidget(splitter, 1);

    m_timer = new QTimer(this);
    m_timer->setInterval(33);
    connect(m_timer, &QTimer::timeout, this, [this] {
        const double next = m_time + 0.033 * m_speed;
        if (next >= m_duration) {
            pause();
            setTime(m_duration);
            return;
        }
        setTime(next);
    });
    connect(m_displayBox, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int index) {
        setDisplay(index == 1 ? GazeDisplay::SideBySide : index == 2 ? GazeDisplay::Blended : GazeDisplay::Scanpaths);
    });
    connect(m_colourBox, qOverload<int>(&QComboBox::currentIndexChanged), this,
            [this](int index) { setColouring(index == 1 ? ScanpathColouring::Subject : ScanpathColouring::Time); });
    connect(m_modelBox, &QCheckBox::toggled, this, &GazeView::setModelScanpath);
    connect(m_playButton, &QToolButton::clicked, this, [this] { playing() ? pause() : play(); });
    connect(m_slider, &QSlider::valueChanged, this, [this](int value) {
        if (!m_timer->isActive()) setTime(m_duration * value / kSliderSteps);
    });
    connect(m_speedBox, qOverload<int>(&QComboBox::currentIndexChanged), this,
            [this](int index) { setSpeed(std::pow(2.0, index - 2)); });
    updatePicture();
}

GazeView::~GazeView() {
    m_pool.clear();
    m_pool.waitForDone();
}

void GazeView::openFixations(const QString& path) {
    GazeDataset data = readGazeFile(path.toStdString());
    if (data.empty()) throw Error(path.toStdString(), "holds no fixations");
    m_fixationsPath = path;
    setDataset(std::move(data));
}

void GazeView::setDataset(GazeDataset data) {
    m_data = std::move(data);
    rebuild();
}

void GazeView::setStimulus(const QString& imagePath, const cv::Mat& viewMap, const Preprocessing& preprocessing) {
    if (imagePath != m_imagePath) {
        m_imagePath = imagePath;
        QImageReader reader(imagePath);
        reader.setAutoTransform(false);  // the pixels the model and the eye tracker saw
        m_image = reader.read();
    }
    m_viewMap = viewMap.empty() ? cv::Mat() : viewMap.clone();
    m_preprocessing = preprocessing;
    rebuild();
}

void GazeView::rebuild() {
    m_key.clear();
    m_modelMap.release();
    m_density.release();
    m_modelPath = Scanpath();
    if (!m_image.isNull()) {
        const cv::Size size(m_image.width(), m_image.height());
        if (!m_viewMap.empty()) m_modelMap = viewMapToImage(m_viewMap, m_preprocessing, size);
        const std::string key = stimulusFor(m_data, m_imagePath);
        if (!key.empty()) {
            m_key = QString::fromStdString(key);
            m_data.fitToImage(key, size);
            m_data.dropOutside();
            const std::vector<cv::Point2d> fixations = m_data.fixationsOn(key);
            if (!fixations.empty())
                m_density = fixationDensityMap(size, fixations, std::max(size.width, size.height) / 30.0);
        }
        if (!m_modelMap.empty()) {
            // The model's scanpath lasts about as long as the people's, for playback side by side.
            WtaOptions options;
            options.fixations = 8;
            m_modelPath = synthesizeScanpath(m_modelMap, options);
            m_modelPath.subject = "model";
            m_modelPath.image = m_key.toStdString();
        }
    }
    m_duration = 0.0;
    for (const Scanpath& path : m_data.scanpathsOf(m_key.toStdString())) {
        for (const Fixation& f : path.fixations) m_duration = std::max(m_duration, f.start + f.duration);
    }
    for (const Fixation& f : m_modelPath.fixations) m_duration = std::max(m_duration, f.start + f.duration);
    m_time = m_duration;
    {
        const QSignalBlocker block(m_slider);
        m_slider->setValue(kSliderSteps);
    }
    updatePicture();
    startMetrics();
}

void GazeView::updatePicture() {
    std::vector<Scanpath> paths = m_data.scanpathsOf(m_key.toStdString());
    if (m_showModelPath && !m_modelPath.fixations.empty()) paths.push_back(m_modelPath);
    ScanpathStyle style = m_painter.style();
    // At the end of the timeline everything is shown, including fixations without times.
    style.upToTime = m_time >= m_duration ? std::numeric_limits<double>::infinity() : m_time;
    m_painter.setStyle(style);
    m_painter.setImage(m_image);
    m_painter.setModelMap(m_modelMap);
    m_painter.setDensity(m_density);
    m_painter.setScanpaths(paths);
    m_painter.setTitle(m_key.isEmpty()
                           ? (m_image.isNull()
                                  ? QString()
                                  : tr("%1: no fixations for this image").arg(QFileInfo(m_imagePath).fileName()))
                           : tr("%1: %2 scanpath(s)").arg(m_key).arg(m_data.scanpathsOf(m_key.toStdString()).size()));
    m_timeLabel->setText(tr("%1 / %2 s").arg(std::min(m_time, m_duration), 0, 'f', 2).arg(m_duration, 0, 'f', 2));
    m_canvas->update();
    if (m_cube) {
        std::vector<Scanpath> shown;
        for (Scanpath path : paths) {
            path.fixations.erase(std::remove_if(path.fixations.begin(), path.fixations.end(),
                                                [&](const Fixation& f) { return f.start > style.upToTime; }),
                                 path.fixations.end());
            shown.push_back(path);
        }
        m_cube->setScanpaths(shown, m_image);
    }
    Q_EMIT gazeUpdated();
}

void GazeView::startMetrics() {
    const quint64 generation = ++m_generation;
    if (m_key.isEmpty() || m_modelMap.empty()) {
        showMetrics(generation, {}, false);
        return;
    }
    ++m_pendingMetrics;
    // Scores run on the view's own worker; only the newest request is shown.
    const GazeDataset data = m_data;
    const std::string key = m_key.toStdString();
    const cv::Mat1f map = m_modelMap.clone();
    QPointer<GazeView> self(this);
    m_pool.start([self, data, key, map, generation] {
        std::vector<std::pair<QString, SaliencyScores>> rows;
        try {
            SaliencyOptions options;
            const std::vector<cv::Point2d> others = otherFixationsScaled(data, key, map.size());
            const std::vector<SubjectScores> subjects = scoreSubjects(map, data, key, options, &others);
            for (const SubjectScores& s : subjects) rows.emplace_back(QString::fromStdString(s.subject), s.scores);
            rows.emplace_back(QObject::tr("mean over subjects"), meanScores(scoresOf(subjects)));
            rows.emplace_back(QObject::tr("inter-observer"),
                              interObserverScores(data, key, map.size(), options, &others));
        } catch (const std::exception&) {
            rows.clear();
        }
        QMetaObject::invokeMethod(
            qApp,
            [self, generation, rows] {
                if (self) self->showMetrics(generation, rows, true);
            },
            Qt::QueuedConnection);
    });
}

void GazeView::showMetrics(quint64 generation, const std::vector<std::pair<QString, SaliencyScores>>& rows,
                           bool fromJob) {
    if (fromJob) --m_pendingMetrics;
    if (generation != m_generation) return;  // a newer request is on its way
    const std::vector<const char*> names = saliencyMetricNames();
    m_table->clear();
    m_table->setColumnCount(int(names.size()) + 2);
    QStringList headers{tr("model vs"), tr("fixations")};
    for (const char* name : names) headers << QString::fromLatin1(name);
    m_table->setHorizontalHeaderLabels(headers);
    m_table->setRowCount(int(rows.size()));
    for (int r = 0; r < int(rows.size()); ++r) {
        const auto& [label, scores] = rows[std::size_t(r)];
        m_table->setItem(r, 0, new QTableWidgetItem(label));
        m_table->setItem(r, 1, new QTableWidgetItem(QString::number(scores.fixations)));
        const std::vector<double> values = saliencyMetricValues(scores);
        for (int c = 0; c < int(values.size()); ++c) {
            const double v = values[std::size_t(c)];
            m_table->setItem(r, c + 2,
                             new QTableWidgetItem(std::isnan(v) ? QStringLiteral("–") : QString::number(v, 'f', 3)));
        }
        if (label == tr("inter-observer")) {
            for (int c = 0; c < m_table->columnCount(); ++c)
                m_table->item(r, c)->setToolTip(
                    tr("Each subject predicted by the others' fixations: the human baseline"));
        }
    }
    m_table->resizeColumnsToContents();
    Q_EMIT metricsUpdated();
}

void GazeView::setDisplay(GazeDisplay display) {
    m_painter.setDisplay(display);
    const int index = display == GazeDisplay::SideBySide ? 1 : display == GazeDisplay::Blended ? 2 : 0;
    if (m_displayBox->currentIndex() != index) {
        const QSignalBlocker block(m_displayBox);
        m_displayBox->setCurrentIndex(index);
    }
    updatePicture();
}

void GazeView::setColouring(ScanpathColouring colouring) {
    ScanpathStyle style = m_painter.style();
    style.colouring = colouring;
    m_painter.setStyle(style);
    const int index = colouring == ScanpathColouring::Subject ? 1 : 0;
    if (m_colourBox->currentIndex() != index) {
        const QSignalBlocker block(m_colourBox);
        m_colourBox->setCurrentIndex(index);
    }
    updatePicture();
}

void GazeView::setModelScanpath(bool shown) {
    m_showModelPath = shown;
    if (m_modelBox->isChecked() != shown) {
        const QSignalBlocker block(m_modelBox);
        m_modelBox->setChecked(shown);
    }
    updatePicture();
}

void GazeView::setTime(double seconds) {
    m_time = std::clamp(seconds, 0.0, m_duration);
    const int value = m_duration > 0 ? int(std::lround(m_time / m_duration * kSliderSteps)) : kSliderSteps;
    if (m_slider->value() != value) {
        const QSignalBlocker block(m_slider);
        m_slider->setValue(value);
    }
    updatePicture();
}

void GazeView::play() {
    if (m_duration <= 0) return;
    if (m_time >= m_duration) setTime(0.0);
    m_timer->start();
    m_playButton->setIcon(style()->standardIcon(QStyle::SP_MediaPause));
}

void GazeView::pause() {
    m_timer->stop();
    m_playButton->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
}

bool GazeView::playing() const {
    return m_timer->isActive();
}

void GazeView::setSpeed(double factor) {
    m_speed = std::clamp(factor, 0.05, 20.0);
}

QString GazeView::currentPage() const {
    return m_pages->currentWidget() == m_cube ? "cube" : "scanpaths";
}

void GazeView::setCurrentPage(const QString& page) {
    m_pages->setCurrentWidget(page == "cube" ? static_cast<QWidget*>(m_cube) : m_canvas);
}

void GazeView::exportFigure(const QString& path, int dpi) {
    if (currentPage() == "cube") {
        if (!path.endsWith(".png", Qt::CaseInsensitive))
            throw Error(path.toStdString(), "the space-time cube exports PNG only (it is a rendered picture)");
        const QImage image = m_cube->grabImage();
        QSaveFile file(path);
        if (!file.open(QIODevice::WriteOnly) || !image.save(&file, "PNG") || !file.commit()) {
            throw Error(path.toStdString(), "cannot write: " + file.errorString().toStdString());
        }
        return;
    }
    if (m_image.isNull()) throw Error(path.toStdString(), "no stimulus to export (open an image and its fixations)");
    exportPainting([this](QPainter& painter, const QRectF& target) { m_painter.paint(painter, target); }, path,
                   m_painter.preferredSize(), dpi, tr("Scanpaths"));
}

}  // namespace fovea
