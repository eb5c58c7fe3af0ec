import Foundation

/// Every way deployctl writes a time, in one place: RFC 3339 UTC for machines, a UTC stamp with
/// its age for people, and the stamp inside run ids. No formatter (they cost start-up).
public enum Timestamp {
    /// `2026-11-30T03:56:21.123Z`: what every JSON output, report and event carries.
    public static func rfc3339(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = Int(millis >= 0 ? millis / 1000 : (millis - 999) / 1000)
        let (d, s) = split(seconds)
        let ms = Int(millis - Int64(seconds) * 1000)
        return "\(d.year)-\(two(d.month))-\(two(d.day))T\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60))."
            + String(repeating: "0", count: ms < 10 ? 2 : ms < 100 ? 1 : 0) + "\(ms)Z"
    }

    /// `2026-11-22 19:28:51 UTC (3m ago)`: for messages a person reads now, never for JSON.
    public static func human(_ date: Date, now: Date = Date()) -> String {
        let (d, s) = split(Int(date.timeIntervalSince1970.rounded(.down)))
        let ago = Int(now.timeIntervalSince(date))
        let since = ago < 120 ? "\(ago)s ago" : ago < 7200 ? "\(ago / 60)m ago" : ago < 172_800 ? "\(ago / 3600)h ago" : "\(ago / 86_400)d ago"
        return "\(d.year)-\(two(d.month))-\(two(d.day)) \(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60)) UTC (\(since))"
    }

    /// `20261130-035621`: the sortable head of a run id.
    static func compact(_ date: Date) -> String {
        let (d, s) = split(Int(date.timeIntervalSince1970.rounded(.down)))
        return "\(d.year)\(two(d.month))\(two(d.day))-\(two(s / 3600))\(two(s / 60 % 60))\(two(s % 60))"
    }

    /// `2026-11-22T18:48:12+01:00`: a commit's author time on the author's own clock, as git's `%aI`.
    public static func gitAuthorTime(_ seconds: Int64, offsetMinutes: Int32) -> String {
        let offset = Int(offsetMinutes)
        let (d, s) = split(Int(seconds) + offset * 60)
        let sign = offset < 0 ? "-" : "+"
        return "\(d.year)-\(two(d.month))-\(two(d.day))T\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60))"
            + "\(sign)\(two(abs(offset) / 60)):\(two(abs(offset) % 60))"
    }

    private static func split(_ seconds: Int) -> ((year: Int, month: Int, day: Int), Int) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        return (civil(days: days), seconds - days * 86_400)
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
