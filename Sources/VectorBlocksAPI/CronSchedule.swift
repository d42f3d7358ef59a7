import Foundation

/// A five-field cron expression (minute, hour, day of month, month, day of week; `*`, numbers, `a-b` ranges, `,`
/// lists and `/n` steps, as Kubernetes CronJobs take them), read in UTC.
public struct CronSchedule: Sendable, Hashable {
    public let expression: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>
    /// cron's rule: when both day fields are restricted, a day matching either one fires.
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public init(_ expression: String) throws(Invalid) {
        let fields = expression.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5 else {
            throw Invalid(description: "\"\(expression)\" has \(fields.count) fields, a cron expression has 5 (minute hour day-of-month month day-of-week)")
        }
        self.expression = expression
        minutes = try Self.values(fields[0], in: 0...59, name: "minute")
        hours = try Self.values(fields[1], in: 0...23, name: "hour")
        daysOfMonth = try Self.values(fields[2], in: 1...31, name: "day of month")
        months = try Self.values(fields[3], in: 1...12, name: "month")
        // 7 is Sunday too.
        daysOfWeek = Set(try Self.values(fields[4], in: 0...7, name: "day of week").map { $0 % 7 })
        dayOfMonthRestricted = fields[2] != "*"
        dayOfWeekRestricted = fields[4] != "*"
    }

    /// The first minute strictly after `date` that the schedule fires at; nil if none within five years (`30 2 31 2 *`).
    public func next(after date: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = calendar.dateInterval(of: .minute, for: date)!.start.addingTimeInterval(60)
        var day = calendar.startOfDay(for: start)
        let lastDay = day.addingTimeInterval(5 * 366 * 86_400)
        while day < lastDay {
            let parts = calendar.dateComponents([.month, .day, .weekday], from: day)
            if months.contains(parts.month!), matchesDay(dayOfMonth: parts.day!, dayOfWeek: parts.weekday! - 1) {
                for hour in hours.sorted() {
                    for minute in minutes.sorted() {
                        let candidate = day.addingTimeInterval(TimeInterval(hour * 3600 + minute * 60))
                        if candidate >= start { return candidate }
                    }
                }
            }
            day = day.addingTimeInterval(86_400)
        }
        return nil
    }

    private func matchesDay(dayOfMonth: Int, dayOfWeek: Int) -> Bool {
        switch (dayOfMonthRestricted, dayOfWeekRestricted) {
        case (true, true): daysOfMonth.contains(dayOfMonth) || daysOfWeek.contains(dayOfWeek)
        case (true, false): daysOfMonth.contains(dayOfMonth)
        case (false, true): daysOfWeek.contains(dayOfWeek)
        case (false, false): true
        }
    }

    private static func values(_ field: String, in range: ClosedRange<Int>, name: String) throws(Invalid) -> Set<Int> {
        var result: Set<Int> = []
        for item in field.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw Invalid(description: "\(name) \"\(item)\" has more than one '/'") }
            var step = 1
            if parts.count == 2 {
                guard let given = Int(parts[1]), given > 0 else { throw Invalid(description: "\(name) \"\(item)\": the step must be a positive number") }
                step = given
            }
            let span: ClosedRange<Int>
            if parts[0] == "*" {
                span = range
            } else {
                let bounds = parts[0].split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
                guard (1...2).contains(bounds.count), let low = bounds[0],
                    let high = bounds.count == 2 ? bounds[1] : (parts.count == 2 ? range.upperBound : low),
                    range.contains(low), range.contains(high), low <= high
                else {
                    throw Invalid(description: "\(name) \"\(item)\" is not a number or range within \(range.lowerBound)-\(range.upperBound)")
                }
                span = low...high
            }
            result.formUnion(stride(from: span.lowerBound, through: span.upperBound, by: step))
        }
        return result
    }
}
