import Foundation

/// Rows in aligned columns, as kubectl prints them: upper-case headers, three spaces between columns, and, on a
/// terminal narrower than the table, the rightmost columns left out rather than wrapped.
public struct Table: Sendable, Hashable {
    public var headers: [String]
    public var rows: [[String]]

    public init(headers: [String], rows: [[String]]) {
        self.headers = headers
        self.rows = rows
    }

    public func render(width: Int? = nil) -> String {
        guard !headers.isEmpty else { return "" }
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        var columns = headers.count
        if let width {
            while columns > 1, widths.prefix(columns).reduce(0, +) + 3 * (columns - 1) > width { columns -= 1 }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for index in 0..<columns {
                let cell = index < cells.count ? cells[index] : ""
                text += index == columns - 1 ? cell : cell.padding(toLength: widths[index] + 3, withPad: " ", startingAt: 0)
            }
            return text
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}
