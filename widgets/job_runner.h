// Long work off the GUI thread: model loading, inference, maps. One worker thread runs jobs in
// order; each job gets a Progress whose update() returns false once the job is cancelled.
// Jobs belong to a lane ("model", "forward", "map", ...): starting a job cancels the older
// ones of its lane, and only the newest job of a lane delivers its result (newest wins when
// the user scrubs layers or heads). Results and errors arrive on the GUI thread.
//
//     runner.start("map", tr("Computing map"),
//                  [stack, view](Progress&) { return std::any(computeViewMap(*stack, view)); },
//                  [this](std::any result) { showMap(std::any_cast<cv::Mat>(result)); });
#pragma once

#include <QObject>
#include <QString>
#include <QThreadPool>
#include <QTimer>

#include <any>
#include <atomic>
#include <functional>
#include <map>
#include <memory>

namespace fovea {

class Progress;

class JobRunner : public QObject {
    Q_OBJECT
public:
    using Work = std::function<std::any(Progress&)>;
    using Done = std::function<void(std::any)>;
    using Failed = std::function<void(const QString&)>;

    explicit JobRunner(QObject* parent = nullptr);
    ~JobRunner() override;

    // Returns the job's id. `failed` defaults to emitting jobFailed.
    quint64 start(const QString& lane, const QString& title, Work work, Done done, Failed failed = {});
    void cancelLane(const QString& lane);
    void cancelAll();
    bool busy() const { return m_running > 0; }
    int pending() const { return m_running; }
    // Blocks until every job finished (for shutdown; the GUI never calls it while running).
    void waitForDone();
    // The longest time one job's work took on the worker thread (ms) since the runner was made:
    // the reference the responsiveness test holds the GUI thread's stalls against.
    qint64 longestWorkMilliseconds() const { return m_longestWorkMs; }

Q_SIGNALS:
    void busyChanged(bool busy);
    // The job the status bar shows: its title and progress (0..1, or -1 when unknown).
    void progressChanged(const QString& title, double fraction);
    void jobFailed(const QString& title, const QString& message);
    // Emitted once no job is left.
    void idle();

private:
    struct Job;
    void finish(const std::shared_ptr<Job>& job, std::any result, const QString& error, bool cancelled,
                qint64 workMs);
    void pollProgress();

    QThreadPool m_pool;
    QTimer m_poll;
    quint64 m_nextId = 1;
    int m_running = 0;
    qint64 m_longestWorkMs = 0;
    std::map<QString, std::shared_ptr<Job>> m_newest;  // per lane
    std::shared_ptr<Job> m_shown;
};

}  // namespace fovea
