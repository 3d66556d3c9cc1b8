#include "widgets/job_runner.h"

#include "core/util/progress.h"

#include <QElapsedTimer>
#include <QMetaObject>
#include <QPointer>
#include <QRunnable>

#include <algorithm>
#include <exception>

namespace fovea {

struct JobRunner::Job {
    quint64 id = 0;
    QString lane;
    QString title;
    Work work;
    Done done;
    Failed failed;
    std::atomic<bool> cancelled{false};
    std::atomic<double> fraction{-1.0};
};

namespace {

class JobProgress final : public Progress {
public:
    JobProgress(std::atomic<bool>& cancelled, std::atomic<double>& fraction)
        : m_cancelled(cancelled), m_fraction(fraction) {}
    bool update(double fraction, std::string_view) override {
        m_fraction.store(fraction);
        return !m_cancelled.load();
    }

private:
    std::atomic<bool>& m_cancelled;
    std::atomic<double>& m_fraction;
};

}  // namespace

JobRunner::JobRunner(QObject* parent) : QObject(parent) {
    // One worker: model calls are serialised, and jobs run in the order they were asked for.
    m_pool.setMaxThreadCount(1);
    m_poll.setInterval(100);
    connect(&m_poll, &QTimer::timeout, this, &JobRunner::pollProgress);
}

JobRunner::~JobRunner() {
    cancelAll();
    m_pool.waitForDone();
}

quint64 JobRunner::start(const QString& lane, const QString& title, Work work, Done done, Failed failed) {
    auto job = std::make_shared<Job>();
    job->id = m_nextId++;
    job->lane = lane;
    job->title = title;
    job->work = std::move(work);
    job->done = std::move(done);
    job->failed = std::move(failed);
    if (auto older = m_newest.find(lane); older != m_newest.end()) older->second->cancelled = true;
    m_newest[lane] = job;
    m_shown = job;
    if (m_running++ == 0) {
        Q_EMIT busyChanged(true);
        m_poll.start();
    }
    Q_EMIT progressChanged(title, -1.0);

    QPointer<JobRunner> self(this);
    m_pool.start([self, job] {
        std::any result;
        QString error;
        bool cancelled = job->cancelled.load();
        QElapsedTimer clock;
        clock.start();
        if (!cancelled) {  // superseded before it began: skip the work
            try {
                JobProgress progress(job->cancelled, job->fraction);
                result = job->work(progress);
            } catch (const Cancelled&) {
                cancelled = true;
            } catch (const std::exception& e) {
                error = QString::fromStdString(e.what()).section('\n', 0, 0);
            } catch (...) {
                error = QStringLiteral("unknown error");
            }
        }
        const qint64 workMs = clock.elapsed();
        if (!self) return;
        QMetaObject::invokeMethod(
            self.data(),
            [self, job, result = std::move(result), error, cancelled, workMs]() mutable {
                if (self) self->finish(job, std::move(result), error, cancelled || job->cancelled.load(), workMs);
            },
            Qt::QueuedConnection);
    });
    return job->id;
}

void JobRunner::finish(const std::shared_ptr<Job>& job, std::any result, const QString& error, bool cancelled,
                       qint64 workMs) {
    m_longestWorkMs = std::max(m_longestWorkMs, workMs);
    const auto newest = m_newest.find(job->lane);
    const bool current = newest != m_newest.end() && newest->second == job;
    if (current) m_newest.erase(newest);
    if (!cancelled && current) {
        if (!error.isEmpty()) {
            if (job->failed) {
                job->failed(error);
            } else {
                Q_EMIT jobFailed(job->title, error);
            }
        } else if (job->done) {
            job->done(std::move(result));
        }
    }
    if (--m_running == 0) {
        m_poll.stop();
        m_shown.reset();
        Q_EMIT busyChanged(false);
        Q_EMIT idle();
    }
}

void JobRunner::pollProgress() {
    if (m_shown) Q_EMIT progressChanged(m_shown->title, m_shown->fraction.load());
}

void JobRunner::cancelLane(const QString& lane) {
    if (auto job = m_newest.find(lane); job != m_newest.end()) job->second->cancelled = true;
}

void JobRunner::cancelAll() {
    for (auto& [lane, job] : m_newest) job->cancelled = true;
}

void JobRunner::waitForDone() { m_pool.waitForDone(); }

}  // namespace fovea
