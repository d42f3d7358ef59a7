import Foundation

/// Bytes in binary units, as kbcli prints a backup's size (`512B`, `1.5KiB`, `3.2GiB`).
public enum ByteSize {
    public static func text(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes)B" : String(format: "%.1f", value) + units[unit]
    }
}
