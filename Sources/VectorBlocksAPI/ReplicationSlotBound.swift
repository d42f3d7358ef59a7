import KubeKit

/// The bound on the WAL a primary keeps for its standbys' replication slots: a standby that is away keeps the WAL
/// it will need, but never more than this, so a standby that never returns cannot fill the primary's volume (its
/// slot is invalidated instead, and the standby re-clones).
extension ComponentReplication {
    /// Without a data volume to take a quarter of.
    public static let defaultSlotWALKeepBytes: Int64 = 1 << 30

    /// The bound in bytes: the field, or a quarter of `volume` (the component's data volume claim), or 1Gi.
    public func slotWALKeepBytes(volume: Quantity?) -> Int64 {
        if let slotMaxWALKeepSize { return slotMaxWALKeepSize.value }
        guard let volume, volume.value > 0 else { return Self.defaultSlotWALKeepBytes }
        return volume.value / 4
    }

    /// `max_slot_wal_keep_size` in megabytes, PostgreSQL's unit (rounded down, at least 1).
    public func slotWALKeepMegabytes(volume: Quantity?) -> Int64 {
        max(slotWALKeepBytes(volume: volume) >> 20, 1)
    }

    /// At least 1Mi (PostgreSQL counts whole megabytes), and less than the data volume, which it is meant to protect.
    func validateSlotMaxWALKeepSize(at path: String, volume: Quantity?) -> [FieldError] {
        guard let size = slotMaxWALKeepSize else { return [] }
        if size.value < 1 << 20 {
            return [
                FieldError(
                    field: path, message: "Invalid value: \"\(size)\": must be at least 1Mi (PostgreSQL keeps WAL in whole megabytes)",
                    fix: "set a size such as 4Gi, or remove it for a quarter of the data volume")
            ]
        }
        if let volume, volume.value > 0, size.value >= volume.value {
            return [
                FieldError(
                    field: path,
                    message:
                        "Invalid value: \"\(size)\": must be less than the data volume's storage (\(volume)), or a standby that is away could fill the primary's disk with WAL",
                    fix: "set less than \(volume), e.g. \(Quantity(bytes: volume.value / 4).canonical), or remove it for a quarter of the volume")
            ]
        }
        return []
    }
}
