#include "widgets/text_controller.h"

#include "core/explain/clip_relevance.h"
#include "core/explain/text_explain.h"
#include "core/tokenize/text_encode.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/error.h"
#include "core/util/progress.h"
#include "widgets/figure_export.h"
#include "widgets/job_runner.h"
#include "widgets/text_saliency_view.h"
#include "widgets/token_atlas_view.h"
#include "widgets/token_head_view.h"
#include "widgets/token_matrix_view.h"
#include "widgets/token_style.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QShortcut>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QTabWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace fovea {

struct TextController::LoadedTokenizer {
    std::string source;
    Tokenizer tokenizer;
};

namespace {

const QStringList kPages = {"heads", "matrix", "saliency", "atlas"};

struct RunResult {
    std::shared_ptr<const TextRun> run;
    std::shared_ptr<const TextController::LoadedTokenizer> tokenizer;
};

struct SaliencyResult {
    std::vector<float> scores;
    QString title;
    QString caption;
};

// A vocabulary id as the text it stands for, in quotes ("" when there is no tokenizer).
QString decodedToken(const Tokenizer& tokenizer, int id) {
    if (!tokenizer) return {};
    try {
        QString text = QString::fromStdString(tokenizer.decode({id}));
        text.replace('\n', QChar(0x21B5));
        return QStringLiteral("\u201C") + text + QStringLiteral("\u201D");
    } catch (const std::exception&) {
        return {};
    }
}

QString headsText(const std::vector<int>& heads) {
    if (heads.empty()) return QObject::tr("all heads");
    if (heads.size() == 1) return QObject::tr("head %1").arg(heads.front());
    QStringList names;
    for (const int head : heads) names << QString::number(head);
    return QObject::tr("mean of heads %1").arg(names.join(", "));
}

}  // namespace

TextController::TextController(TextSettings& settings, JobRunner* jobs, QWidget* parent)
    : QObject(parent), m_settings(settings), m_jobs(jobs) {
    buildPage(parent);
    syncControls();
}

void TextController::buildPage(QWidget* parent) {
    m_page = new QWidget(parent);
    auto* layout = new QVBoxLayout(m_page);
    layout->setContentsMargins(6, 6, 6, 6);

    auto* inputRow = new QHBoxLayout;
    auto* boxes = new QVBoxLayout;
    m_edit = new QPlainTextEdit(m_page);
    m_edit->setPlaceholderText(tr("Type a text for the language model (Ctrl+Return runs it)"));
    m_edit->setMaximumHeight(72);
    m_edit->setTabChangesFocus(true);
    m_pair = new QLineEdit(m_page);
    m_pair->setPlaceholderText(tr("Second text of a pair (BERT), optional"));
    boxes->addWidget(m_edit);
    boxes->addWidget(m_pair);
    inputRow->addLayout(boxes, 1);
    auto* buttons = new QVBoxLayout;
    m_runButton = new QPushButton(tr("Run"), m_page);
    m_runButton->setToolTip(tr("Tokenise the text and run the model (Ctrl+Return)"));
    m_overflow = new QComboBox(m_page);
    m_overflow->addItem(tr("Too long: truncate"), "truncate");
    m_overflow->addItem(tr("Too long: refuse"), "refuse");
    m_overflow->setToolTip(
        tr("Text longer than the model's context is cut with a notice, or refused"));
    m_tokenizerButton = new QPushButton(tr("Tokenizer..."), m_page);
    m_tokenizerButton->setToolTip(tr("Choose a tokenizer folder when the model folder has none"));
    buttons->addWidget(m_runButton);
    buttons->addWidget(m_overflow);
    buttons->addWidget(m_tokenizerButton);
    buttons->addStretch(1);
    inputRow->addLayout(buttons);
    layout->addLayout(inputRow);

    m_notice = new QLabel(m_page);
    m_notice->setWordWrap(true);
    m_notice->setVisible(false);
    layout->addWidget(m_notice);

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Layer"), m_page));
    m_layer = new QComboBox(m_page);
    m_layer->setToolTip(tr("Layer shown ([ and ] step)"));
    controls->addWidget(m_layer);
    controls->addSpacing(10);
    controls->addWidget(new QLabel(tr("Heads"), m_page));
    m_headBox = new QWidget(m_page);
    m_headLayout = new QHBoxLayout(m_headBox);
    m_headLayout->setContentsMargins(0, 0, 0, 0);
    m_headLayout->setSpacing(2);
    controls->addWidget(m_headBox);
    controls->addStretch(1);
    layout->addLayout(controls);
    // The saliency settings on their own row, so that the page stays narrow.
    controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Saliency"), m_page));
    m_method = new QComboBox(m_page);
    for (const std::string& name : textExplainerNames())
        m_method->addItem(QString::fromStdString(name));
    m_method->setToolTip(tr("Explanation method of the saliency view"));
    controls->addWidget(m_method);
    controls->addWidget(new QLabel(tr("position"), m_page));
    m_position = new QSpinBox(m_page);
    m_position->setRange(-1, 1 << 20);
    m_position->setSpecialValueText(tr("last"));
    m_position->setToolTip(tr("GPT-2: the position whose next-token prediction is explained"));
    controls->addWidget(m_position);
    controls->addStretch(1);
    layout->addLayout(controls);

    m_tabs = new QTabWidget(m_page);
    m_heads = new TokenHeadView;
    auto* scroll = new QScrollArea(m_page);
    scroll->setWidget(m_heads);
    scroll->setWidgetResizable(true);
    scroll->setBackgroundRole(QPalette::Base);
    m_matrix = new TokenMatrixView(m_page);
    m_saliency = new TextSaliencyView(m_page);
    m_atlas = new TokenAtlasView(m_page);
    m_tabs->addTab(scroll, tr("Heads"));
    m_tabs->addTab(m_matrix, tr("Matrix"));
    m_tabs->addTab(m_saliency, tr("Saliency"));
    m_tabs->addTab(m_atlas, tr("Atlas"));
    layout->addWidget(m_tabs, 1);

    // Run by the user hands the keyboard to the views, so that the layer and head keys
    // ([ ] , .) step them instead of typing into the text box (a click there edits again).
    const auto runByUser = [this] {
        run();
        if (QWidget* view = m_tabs->currentWidget()) view->setFocus(Qt::OtherFocusReason);
    };
    connect(m_runButton, &QPushButton::clicked, this, runByUser);
    auto* shortcut = new QShortcut(QKeySequence(tr("Ctrl+Return")), m_page);
    shortcut->setContext(Qt::WidgetWithChildrenShortcut);
    connect(shortcut, &QShortcut::activated, this, runByUser);
    connect(m_pair, &QLineEdit::returnPressed, this, [this] { run(); });
    connect(m_overflow, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_syncing) m_settings.overflow = m_overflow->currentData().toString().toStdString();
    });
    connect(m_tokenizerButton, &QPushButton::clicked, this, [this] {
        const QString path =
            QFileDialog::getExistingDirectory(m_page, tr("Choose a tokenizer folder"));
        if (!path.isEmpty()) setTokenizerPath(path);
    });
    connect(m_layer, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_syncing && m_layer->currentIndex() >= 0) setLayer(m_layer->currentData().toInt());
    });
    connect(m_method, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_syncing) setMethod(m_method->currentText());
    });
    connect(m_position, &QSpinBox::valueChanged, this, [this](int value) {
        if (m_syncing) return;
        m_settings.position = value;
        updateSaliency();
    });
    connect(m_tabs, &QTabWidget::currentChanged, this, [this](int index) {
        if (!m_syncing && index >= 0) m_settings.page = kPages[index].toStdString();
    });
    connect(m_atlas, &TokenAtlasView::cellClicked, this, [this](int layer, int head) {
        m_settings.layer = layer;
        m_settings.heads = {head};
        syncControls();
        refreshViews();
    });
    connect(m_matrix, &TokenMatrixView::cellHovered, this,
            [this](int query, int key, float value, bool masked) {
                if (query < 0 || !m_run) return;
                const QString text =
                    tr("query %1 %2 -> key %3 %4: %5")
                        .arg(query)
                        .arg(tokenLabel(m_run->attention->tokens[query]))
                        .arg(key)
                        .arg(tokenLabel(m_run->attention->tokens[key]))
                        .arg(masked ? tr("masked") : QString::number(double(value), 'g', 4));
                Q_EMIT messageChanged(text);
            });
    connect(m_saliency, &TextSaliencyView::tokenHovered, this, [this](int token, float score) {
        if (token < 0 || !m_run) return;
        Q_EMIT messageChanged(tr("token %1 %2: score %3")
                                  .arg(token)
                                  .arg(tokenLabel(m_run->input.tokens[token]))
                                  .arg(double(score), 0, 'g', 4));
    });
    m_saliency->setPlaceholder(tr("Open a language model (GPT-2, BERT, CLIP) and type a text"));
}

bool TextController::acceptsText() const {
    return m_model && m_model->spec().takesText();
}

std::string TextController::tokenizerSource() const {
    if (!m_settings.tokenizer.empty()) return m_settings.tokenizer;
    if (!m_folder.empty() && hasTokenizerFiles(m_folder)) return m_folder;
    return {};
}

void TextController::setModel(std::shared_ptr<Model> model, const std::string& folder) {
    m_model = std::move(model);
    m_folder = folder;
    m_run.reset();
    m_jobs->cancelLane("text");
    syncControls();
    if (!acceptsText()) {
        m_saliency->setPlaceholder(
            m_model ? tr("This model takes images; the Text page is for language models")
                    : tr("Open a language model (GPT-2, BERT, CLIP) and type a text"));
        showNotice(QString(), false);
        return;
    }
    if (tokenizerSource().empty()) {
        showNotice(tr("%1 has no tokenizer files (tokenizer.json, vocab.txt, vocab.json + "
                      "merges.txt); choose one with "
                      "Tokenizer...")
                       .arg(QString::fromStdString(folder)),
                   true);
        return;
    }
    showNotice(QString(), false);
    if (!m_settings.text.empty() || !m_settings.textPair.empty()) run();
}

void TextController::setImage(std::shared_ptr<const ImageInput> image) {
    const bool changed = image != m_image;
    m_image = std::move(image);
    if (changed && m_model && m_model->spec().modality == "image-text" && m_run) run();
}

void TextController::syncFromSettings() {
    m_run.reset();
    syncControls();
}

void TextController::setText(const QString& text, const QString& pair) {
    m_syncing = true;
    m_edit->setPlainText(text);
    m_pair->setText(pair);
    m_syncing = false;
    m_settings.text = text.toStdString();
    m_settings.textPair = pair.toStdString();
    if (acceptsText() && !tokenizerSource().empty()) run();
}

void TextController::setTokenizerPath(const QString& path) {
    m_settings.tokenizer = path.toStdString();
    m_tokenizer.reset();
    if (acceptsText()) {
        showNotice(QString(), false);
        if (!m_settings.text.empty() || !m_settings.textPair.empty()) run();
    }
}

void TextController::setOverflow(const QString& overflow) {
    if (overflow != "truncate" && overflow != "refuse")
        throw Error("--overflow", "must be truncate or refuse");
    m_settings.overflow = overflow.toStdString();
    syncControls();
}

void TextController::showNotice(const QString& text, bool error) {
    m_notice->setText(text);
    m_notice->setVisible(!text.isEmpty());
    m_notice->setStyleSheet(error ? "QLabel { background: #fde2e1; color: #8a1c14; padding: 4px; "
                                    "border: 1px solid #e9a39c; }"
                                  : "QLabel { background: #fff4c2; color: #5c4700; padding: 4px; "
                                    "border: 1px solid #e8d27a; }");
}

QString TextController::notice() const {
    return m_notice->isHidden() ? QString() : m_notice->text();
}

void TextController::run() {
    m_settings.text = m_edit->toPlainText().toStdString();
    m_settings.textPair = m_pair->text().toStdString();
    if (!m_model) {
        Q_EMIT messageChanged(tr("Open a language model first"));
        return;
    }
    if (!acceptsText()) {
        showNotice(tr("%1 takes images, not text")
                       .arg(QFileInfo(QString::fromStdString(m_folder)).fileName()),
                   true);
        return;
    }
    const std::string source = tokenizerSource();
    if (source.empty()) {
        showNotice(tr("%1 has no tokenizer files; choose one with Tokenizer...")
                       .arg(QString::fromStdString(m_folder)),
                   true);
        return;
    }
    if (m_settings.text.empty() && m_settings.textPair.empty()) {
        showNotice(tr("Type a text first"), true);
        return;
    }
    const std::shared_ptr<Model> model = m_model;
    const std::shared_ptr<const ImageInput> image =
        m_model->spec().modality == "image-text" ? m_image : nullptr;
    std::shared_ptr<const LoadedTokenizer> cached =
        m_tokenizer && m_tokenizer->source == source ? m_tokenizer : nullptr;
    TypedText typed;
    typed.text = m_settings.text;
    typed.textPair = m_settings.textPair;
    typed.overflow =
        m_settings.overflow == "refuse" ? ContextOverflow::Refuse : ContextOverflow::Truncate;
    const HeadScales scales = m_headScales;
    m_jobs->start(
        "text", tr("Running the text"),
        [model, image, cached, source, typed, scales](Progress&) {
            // A text model's head intervention (image models: the window's forward job sets it).
            if (model->spec().modality == "text") model->setHeadScales(scales);
            RunResult result;
            result.tokenizer = cached;
            if (!result.tokenizer) {
                auto loaded = std::make_shared<LoadedTokenizer>();
                loaded->source = source;
                loaded->tokenizer = loadTokenizer(source);
                result.tokenizer = loaded;
            }
            auto run = std::make_shared<TextRun>();
            run->input = encodeTypedText(result.tokenizer->tokenizer, typed, model->spec());
            run->textPair = typed.textPair;
            CaptureRequest request;  // every layer and head, float16
            run->outputs = image ? model->runImageText(*image, run->input, request)
                                 : model->runText(run->input, request);
            const bool clip = model->spec().modality == "image-text";
            run->attention = std::make_shared<const AttentionStack>(
                clip ? run->outputs.textAttention : run->outputs.attention);
            result.run = run;
            return std::any(result);
        },
        [this, model](std::any value) {
            if (model != m_model) return;
            const RunResult result = std::any_cast<RunResult>(value);
            m_tokenizer = result.tokenizer;
            m_run = result.run;
            QStringList notices;
            for (const std::string& notice : m_run->input.notices)
                notices << QString::fromStdString(notice);
            // The model repeats the input's notices in its outputs: each is shown once.
            for (const std::string& notice : m_run->outputs.notices) {
                if (!notices.contains(QString::fromStdString(notice)))
                    notices << QString::fromStdString(notice);
            }
            showNotice(notices.join('\n'), false);
            syncControls();
            refreshViews();
            Q_EMIT messageChanged(tr("%1 tokens through %2")
                                      .arg(m_run->input.size())
                                      .arg(QFileInfo(QString::fromStdString(m_folder)).fileName()));
            Q_EMIT textUpdated();
            updateAtlas();
            updateSaliency();
        },
        [this](const QString& message) {
            showNotice(message, true);
            Q_EMIT errorOccurred(message);
        });
}

int TextController::shownLayer() const {
    if (!m_run || m_run->attention->layers.empty()) return -1;
    for (const AttentionLayer& layer : m_run->attention->layers) {
        if (layer.layer == m_settings.layer) return layer.layer;
    }
    return m_run->attention->layers.back().layer;
}

void TextController::syncControls() {
    m_syncing = true;
    if (m_edit->toPlainText().toStdString() != m_settings.text)
        m_edit->setPlainText(QString::fromStdString(m_settings.text));
    if (m_pair->text().toStdString() != m_settings.textPair)
        m_pair->setText(QString::fromStdString(m_settings.textPair));
    const bool pairs = m_model && m_model->spec().typeVocabSize > 1;
    m_pair->setVisible(pairs);
    m_edit->setEnabled(acceptsText());
    m_runButton->setEnabled(acceptsText());
    m_overflow->setCurrentIndex(m_settings.overflow == "refuse" ? 1 : 0);
    const int layers = acceptsText() ? m_model->spec().textLayers() : 0;
    if (m_layer->count() != layers) {
        m_layer->clear();
        for (int l = 0; l < layers; ++l) m_layer->addItem(QString::number(l), l);
    }
    const int shown =
        shownLayer() >= 0 ? shownLayer() : (m_settings.layer >= 0 ? m_settings.layer : layers - 1);
    m_layer->setCurrentIndex(std::clamp(shown, -1, layers - 1));
    const int method = m_method->findText(QString::fromStdString(m_settings.method));
    m_method->setCurrentIndex(method >= 0 ? method : m_method->findText("input-x-gradient"));
    m_position->setValue(m_settings.position);
    m_position->setEnabled(m_model && m_model->spec().task == "causal-lm");
    const int page = int(kPages.indexOf(QString::fromStdString(m_settings.page)));
    m_tabs->setCurrentIndex(std::max(0, page));
    m_syncing = false;
    rebuildHeadButtons();
}

void TextController::rebuildHeadButtons() {
    // Only language models get head toggles; the buttons are made once per head count (styled
    // buttons cost the GUI thread a few milliseconds each), then only their states change.
    const int heads = acceptsText() ? std::min(32, m_model->spec().textHeadCount()) : 0;
    if (m_headLayout->count() == heads + (heads > 0 ? 1 : 0)) {
        for (int i = 0; i < m_headLayout->count(); ++i) {
            auto* button = qobject_cast<QToolButton*>(m_headLayout->itemAt(i)->widget());
            if (!button) continue;
            const QSignalBlocker blocker(button);
            button->setChecked(i == 0 ? m_settings.heads.empty()
                                      : !m_settings.heads.empty() && m_settings.showsHead(i - 1));
        }
        return;
    }
    // deleteLater: this may run inside the clicked() of one of these buttons.
    while (QLayoutItem* item = m_headLayout->takeAt(0)) {
        if (QWidget* widget = item->widget()) {
            widget->hide();
            widget->deleteLater();
        }
        delete item;
    }
    auto addButton = [this](const QString& text, const QColor& color, bool checked, auto onClick) {
        auto* button = new QToolButton(m_headBox);
        button->setText(text);
        button->setCheckable(true);
        button->setChecked(checked);
        button->setAutoRaise(false);
        if (color.isValid()) {
            button->setStyleSheet(
                QStringLiteral("QToolButton { border: 2px solid %1; padding: 1px 5px; } "
                               "QToolButton:checked { background: %1; color: white; }")
                    .arg(color.name()));
        }
        connect(button, &QToolButton::clicked, this, onClick);
        m_headLayout->addWidget(button);
    };
    if (heads == 0) return;
    addButton(tr("all"), QColor(), m_settings.heads.empty(), [this] { setHeads({}); });
    for (int h = 0; h < heads; ++h) {
        addButton(QString::number(h), headColor(h),
                  !m_settings.heads.empty() && m_settings.showsHead(h), [this, h] {
                      std::vector<int> next = m_settings.heads;
                      const auto found = std::find(next.begin(), next.end(), h);
                      if (found != next.end()) {
                          next.erase(found);
                      } else {
                          next.push_back(h);
                          std::sort(next.begin(), next.end());
                      }
                      setHeads(next);
                  });
    }
}

void TextController::refreshViews() {
    if (!m_run || m_run->attention->layers.empty()) return;
    const std::shared_ptr<const AttentionStack>& stack = m_run->attention;
    const int layer = shownLayer();
    std::vector<int> heads;
    for (const int head : m_settings.heads) {
        if (stack->layer(layer).headSlot(head) >= 0) heads.push_back(head);
    }
    TokenHeadPainter headPainter;
    headPainter.setAttention(stack, layer, heads);
    headPainter.setTitle(tr("Layer %1, %2").arg(layer).arg(headsText(heads)));
    m_heads->setPainter(headPainter);

    TokenMatrixPainter matrix;
    matrix.setColormap(m_settings.colormap);
    matrix.setMatrix(tokenMatrix(*stack, layer, heads), tokenLabels(stack->tokens));
    matrix.setTitle(
        tr("Layer %1, %2: query (rows) x key (columns)").arg(layer).arg(headsText(heads)));
    m_matrix->setPainter(matrix);
    m_atlas->setFocusCell(layer, heads.size() == 1 ? heads.front() : -1);
}

void TextController::updateAtlas() {
    if (!m_run) return;
    const std::shared_ptr<const TextRun> run = m_run;
    const std::string colormap = m_settings.colormap;
    m_jobs->start(
        "text-atlas", tr("Drawing the token atlas"),
        [run, colormap](Progress&) {
            return std::any(buildTokenAtlas(*run->attention, 64, colormap));
        },
        [this, run](std::any value) {
            if (run != m_run) return;
            TokenAtlasPainter atlas = std::any_cast<TokenAtlasPainter>(value);
            const std::vector<int>& heads = m_settings.heads;
            atlas.setFocus(TokenAtlasCell{shownLayer(), heads.size() == 1 ? heads.front() : -1});
            m_atlas->setPainter(atlas);
            Q_EMIT atlasUpdated();
        });
}

void TextController::updateSaliency() {
    if (!m_run || !m_model) return;
    const std::shared_ptr<const TextRun> run = m_run;
    const std::shared_ptr<Model> model = m_model;
    const std::shared_ptr<const ImageInput> image = m_image;
    const std::string method = m_method->currentText().toStdString();
    const int position = m_settings.position;
    if (model->spec().modality == "image-text" && !image) {
        m_saliency->setPlaceholder(
            tr("CLIP explains a text against an image: open an image as well"));
        return;
    }
    const Tokenizer tokenizer = m_tokenizer ? m_tokenizer->tokenizer : Tokenizer();
    m_jobs->start(
        "text-saliency", tr("Explaining the text (%1)").arg(QString::fromStdString(method)),
        [run, model, image, method, position, tokenizer](Progress& progress) {
            SaliencyResult result;
            const ModelSpec& spec = model->spec();
            if (spec.modality == "image-text") {
                ClipRelevanceOptions options;  // Chefer's bi-modal relevance
                const ClipRelevance r = explainImageText(*model, *image, run->input, options);
                result.scores = r.tokenRelevance;
                result.title =
                    QObject::tr("Relevance of each token for the image (Chefer), similarity %1")
                        .arg(double(r.similarityAsGiven), 0, 'f', 3);
                result.caption = QStringLiteral("chefer");
                return std::any(result);
            }
            const int last = run->input.lastRealPosition();
            int target = -1;
            int at = -1;
            if (spec.task == "causal-lm") {
                at = position < 0 || position > last ? last : position;
                // The token that actually follows, when there is one; else the top-1 prediction.
                if (at < last) target = int(run->input.ids[std::size_t(at) + 1]);
            }
            const TextExplanation e =
                explainTokens(*model, run->input, method, {}, target, at, &progress);
            result.scores = e.scores;
            if (spec.task == "causal-lm") {
                result.title = QObject::tr("%1 for the next token %2 (id %3%4) at position %5")
                                   .arg(QString::fromStdString(method))
                                   .arg(decodedToken(tokenizer, e.target))
                                   .arg(e.target)
                                   .arg(at < last ? QObject::tr(", the text's own")
                                                  : QObject::tr(", the top-1 prediction"))
                                   .arg(e.position);
            } else if (spec.numClasses > 0) {
                result.title = QObject::tr("%1: class %2")
                                   .arg(QString::fromStdString(method),
                                        QString::fromStdString(spec.labelOf(e.target)));
            } else {
                result.title = QObject::tr("%1: token %2 at position %3")
                                   .arg(QString::fromStdString(method))
                                   .arg(e.target)
                                   .arg(e.position);
            }
            result.caption = QString::fromStdString(method);
            return std::any(result);
        },
        [this, run](std::any value) {
            if (run != m_run) return;
            const SaliencyResult result = std::any_cast<SaliencyResult>(value);
            TextSaliencyPainter painter;
            painter.setContent(run->input.text, run->textPair, run->input.tokens, result.scores);
            painter.setTitle(result.title);
            painter.setCaption(result.caption);
            m_saliency->setPainter(painter);
            Q_EMIT saliencyUpdated();
        },
        [this](const QString& message) {
            m_saliency->setPlaceholder(message);
            Q_EMIT errorOccurred(message);
        });
}

QString TextController::pageName() const {
    return kPages.value(m_tabs->currentIndex(), "heads");
}

void TextController::setPage(const QString& name) {
    const int index = int(kPages.indexOf(name));
    if (index < 0)
        throw Error("text view",
                    "unknown page '" + name.toStdString() + "' (heads, matrix, saliency, atlas)");
    m_settings.page = name.toStdString();
    m_tabs->setCurrentIndex(index);
}

void TextController::setLayer(int layer) {
    m_settings.layer = layer;
    syncControls();
    refreshViews();
}

void TextController::setHeads(const std::vector<int>& heads) {
    m_settings.heads = heads;
    syncControls();
    refreshViews();
}

void TextController::setMethod(const QString& method) {
    if (m_method->findText(method) < 0) {
        throw Error("text saliency",
                    "unknown method '" + method.toStdString() +
                        "' (raw, rollout, chefer, input-x-gradient, integrated-gradients)");
    }
    m_settings.method = method.toStdString();
    syncControls();
    updateSaliency();
}

void TextController::stepLayer(int delta) {
    const int layers = m_model ? m_model->spec().textLayers() : 0;
    if (layers <= 0) return;
    const int current = m_settings.layer < 0 ? layers - 1 : m_settings.layer;
    setLayer(std::clamp(current + delta, 0, layers - 1));
}

void TextController::stepHead(int delta) {
    const int heads = m_model ? m_model->spec().textHeadCount() : 0;
    if (heads <= 0) return;
    // Positions 0..heads-1 are single heads, `heads` is "all".
    const int current = m_settings.heads.size() == 1 ? m_settings.heads.front() : heads;
    const int next = ((current + delta) % (heads + 1) + heads + 1) % (heads + 1);
    setHeads(next == heads ? std::vector<int>{} : std::vector<int>{next});
}

void TextController::exportFigure(const QString& path, int dpi) const {
    const std::string subject = path.toStdString();
    if (!m_run) throw Error(subject, "the Text page has nothing to export yet (run a text first)");
    const QString page = pageName();
    if (page == "heads") {
        const TokenHeadPainter& painter = m_heads->painter();
        exportPainting([&painter](QPainter& p, const QRectF& target) { painter.paint(p, target); },
                       path, painter.preferredSize(), dpi, tr("Head view"));
    } else if (page == "matrix") {
        const TokenMatrixPainter& painter = m_matrix->painter();
        exportPainting([&painter](QPainter& p, const QRectF& target) { painter.paint(p, target); },
                       path, painter.preferredSize(), dpi, tr("Token matrix"));
    } else if (page == "saliency") {
        const TextSaliencyPainter& painter = m_saliency->painter();
        if (painter.tokens() == 0) throw Error(subject, "the saliency view has no scores yet");
        exportPainting([&painter](QPainter& p, const QRectF& target) { painter.paint(p, target); },
                       path, painter.preferredSize(), dpi, tr("Text saliency"));
    } else {
        const TokenAtlasPainter& painter = m_atlas->painter();
        if (painter.layers() == 0) throw Error(subject, "the token atlas is not drawn yet");
        exportPainting([&painter](QPainter& p, const QRectF& target) { painter.paint(p, target); },
                       path, painter.preferredSize(), dpi, tr("Token atlas"));
    }
}

}  // namespace fovea
