import Foundation
import ReelCore
import ReelStore

/// Job notices (webhooks): sent when a job is done, failed or cancelled; their outcomes are
/// recorded as the job's events.
extension Coordinator {
    /// The JSON a notice carries.
    struct NoticeBody: Encodable {
        struct Job: Encodable {
            let id: Int64
            let name: String
            let owner: String
            let state: String
            let reason: String?
            let output: String
            let framesTotal: Int
            let latentChecksum: String?
            let frameChecksum: String?
            let finishedAt: Double
        }
        /// `job.done`, `job.failed` or `job.cancelled`.
        let event: String
        let job: Job
    }

    /// Queues a notice of `job` reaching `state` for its spec's `notify_url`, or the default.
    func notify(_ job: Int64, _ state: JobState, reason: String?, checksums: OutputChecksums? = nil) {
        guard let webhooks else { return }
        let record = try? store.job(job)
        let spec = plans[job]?.spec ?? (try? record?.spec())
        guard let url = spec?.notifyURL ?? webhooks.settings.defaultURL else { return }
        let event = "job.\(state.rawValue)"
        let body = NoticeBody(
            event: event,
            job: NoticeBody.Job(
                id: job, name: spec?.name ?? record?.name ?? "", owner: record?.owner ?? Caller.local, state: state.rawValue,
                reason: reason,
                output: spec?.output ?? record?.output ?? "", framesTotal: spec?.frameCount ?? 0,
                latentChecksum: checksums?.latents ?? record?.latentChecksum, frameChecksum: checksums?.frames ?? record?.frameChecksum,
                finishedAt: now()))
        guard let json = try? JSONCoding.encoder.encode(body) else { return }
        webhooks.send(WebhookNotice(job: job, url: url, event: event, body: Array(json)))
    }

    /// Records what became of the notices sent (each turn).
    func collectWebhooks() {
        guard let webhooks else { return }
        for outcome in webhooks.takeOutcomes() {
            let kind: String, detail: String
            switch outcome.result {
            case .delivered(let status):
                (kind, detail) = ("webhook-delivered", "\(outcome.event): HTTP \(status) on attempt \(outcome.attempt)")
                logger.info("job \(outcome.job): \(detail)")
            case .failed(let why, let delay):
                (kind, detail) = (
                    "webhook-failed",
                    "\(outcome.event) attempt \(outcome.attempt): \(Self.bounded(why, limit: 512)); retry in \(Int(delay)) s"
                )
                logger.warning("job \(outcome.job): \(detail)")
            case .abandoned(let why):
                (kind, detail) = ("webhook-abandoned", "\(outcome.event): \(Self.bounded(why, limit: 512))")
                logger.error("job \(outcome.job): notice given up: \(detail)")
            }
            do { try store.recordJobEvent(job: outcome.job, kind: kind, detail: detail, now: now()) } catch {
                logger.error("cannot record job \(outcome.job)'s \(kind): \(error)")
            }
        }
    }
}
