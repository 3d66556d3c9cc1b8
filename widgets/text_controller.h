// Drives the workbench's Text page for language models (GPT-2, BERT, CLIP's text tower): a text
// box (and a second one for BERT pairs), tokenised with the model folder's tokenizer (or one the
// user picks), run on the JobRunner (lane "text", newest wins), with a visible notice when the
// text was cut to the context (or an error when the setting is to refuse). The run feeds four
// views: the head view, the token x token matrix, the text saliency (an explanation method's
// score per token, its own job) and the layer x head atlas of token patterns (its own job).
// Everything the user sets lives in the session's TextSettings.
//
//     auto* text = new TextController(m_state.text, m_jobs, tabs);
//     tabs->addTab(text->page(), tr("Text"));
//     text->setModel(model, "models/gpt2");      // after every model load
//     text->setText("The cat sat on the mat.");  // runs once the model and tokenizer are there
//     text->exportFigure("heads.svg");           // the current sub-page
#pragma once

#include "core/model/model.h"
#include "core/session/text_settings.h"

#include <QObject>
#include <QString>

#include <memory>
#include <string>

class QComboBox;
class QHBoxLayout;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QWidget;

namespace fovea {

class JobRunner;
class TokenAtlasView;
class TokenHeadView;
class TokenMatrixView;
class TextSaliencyView;

// One run of a text: what went in, what came out, and the attention the token views show.
struct TextRun {
    TextInput input;
    std::string textPair;
    ModelOutputs outputs;
    std::shared_ptr<const AttentionStack>
        attention;  // GPT-2 / BERT: outputs.attention; CLIP: its text tower's
};

class TextController : public QObject {
    Q_OBJECT
  public:
    TextController(TextSettings& settings, JobRunner* jobs, QWidget* parent);

    QWidget* page() const { return m_page; }
    // A model was opened (null: none): finds its tokenizer and runs the text once more.
    void setModel(std::shared_ptr<Model> model, const std::string& folder);
    // CLIP: the image the text is matched with (the window's current input).
    void setImage(std::shared_ptr<const ImageInput> image);
    // The session replaced the settings: show them (the next model load runs the text).
    void syncFromSettings();
    // As typed into the boxes; runs when a model and its tokenizer are there.
    void setText(const QString& text, const QString& pair = {});
    // A tokenizer folder or tokenizer.json for models whose folder has none ("" : the folder's).
    void setTokenizerPath(const QString& path);
    void setOverflow(const QString& overflow);  // "truncate" or "refuse"
    void run();

    // The sub-page: "heads", "matrix", "saliency" or "atlas".
    QString pageName() const;
    void setPage(const QString& name);
    void setLayer(int layer);
    void setHeads(const std::vector<int>& heads);
    void setMethod(const QString& method);
    void stepLayer(int delta);
    // all heads -> head 0 -> head 1 -> ... -> all heads
    void stepHead(int delta);
    // The current sub-page as a figure (PNG / SVG / PDF). Throws fovea::Error when there is
    // nothing to write or writing fails.
    void exportFigure(const QString& path, int dpi = 300) const;

    // The tokenizer last loaded and where from (loaded in the run's job, kept for the next).
    struct LoadedTokenizer;

    bool acceptsText() const;
    const TextRun* lastRun() const { return m_run.get(); }
    std::shared_ptr<const TextRun> lastRunShared() const { return m_run; }
    // Head scales the next runs apply to the model first (the window's head intervention, for
    // text models; empty: the model as loaded).
    void setHeadScales(HeadScales scales) { m_headScales = std::move(scales); }
    int shownLayer() const;
    QString notice() const;
    TokenHeadView* headView() const { return m_heads; }
    TokenMatrixView* matrixView() const { return m_matrix; }
    TextSaliencyView* saliencyView() const { return m_saliency; }
    TokenAtlasView* atlasView() const { return m_atlas; }

  Q_SIGNALS:
    // A new run's attention is on screen.
    void textUpdated();
    void saliencyUpdated();
    void atlasUpdated();
    void errorOccurred(const QString& message);
    void messageChanged(const QString& message);

  private:
    void buildPage(QWidget* parent);
    void syncControls();
    void rebuildHeadButtons();
    void refreshViews();
    void updateSaliency();
    void updateAtlas();
    void showNotice(const QString& text, bool error);
    std::string tokenizerSource() const;

    TextSettings& m_settings;
    JobRunner* m_jobs;
    std::shared_ptr<Model> m_model;
    std::string m_folder;
    std::shared_ptr<const ImageInput> m_image;
    std::shared_ptr<const TextRun> m_run;
    HeadScales m_headScales;
    std::shared_ptr<const LoadedTokenizer> m_tokenizer;
    bool m_syncing = false;

    QWidget* m_page = nullptr;
    QPlainTextEdit* m_edit = nullptr;
    QLineEdit* m_pair = nullptr;
    QComboBox* m_overflow = nullptr;
    QPushButton* m_runButton = nullptr;
    QPushButton* m_tokenizerButton = nullptr;
    QLabel* m_notice = nullptr;
    QComboBox* m_layer = nullptr;
    QWidget* m_headBox = nullptr;
    QHBoxLayout* m_headLayout = nullptr;
    QComboBox* m_method = nullptr;
    QSpinBox* m_position = nullptr;
    QTabWidget* m_tabs = nullptr;
    TokenHeadView* m_heads = nullptr;
    TokenMatrixView* m_matrix = nullptr;
    TextSaliencyView* m_saliency = nullptr;
    TokenAtlasView* m_atlas = nullptr;
};

}  // namespace fovea
