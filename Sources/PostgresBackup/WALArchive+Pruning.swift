import ObjectStorage

extension WALArchive {
    /// The archived files a restore from a base backup starting in segment `firstNeeded` (or later) never reads:
    /// segments and partial segments that come before it by timeline and then position, which is the order of
    /// their names. A restore replays from its backup's start along that timeline and its descendants, which begin
    /// later; history files (timelines and backups) are kept, as recovery reads every timeline's history to follow
    /// it, and they are small.
    public static func prunable(_ names: [String], before firstNeeded: String) -> [String] {
        names.filter { name in
            guard let segment = WALFileName(name)?.segmentName else { return false }
            return segment < firstNeeded
        }
    }

    /// Deletes from the archive what `prunable` names, listing only up to `firstNeeded` (keys come in name order, so
    /// the listing stops at the first later one); returns the names deleted.
    @discardableResult
    public func prune(before firstNeeded: String) async throws -> [String] {
        guard case .segment = WALFileName(firstNeeded) else {
            throw BackupFailure("\(firstNeeded) is not a WAL segment name; nothing pruned")
        }
        var names: [String] = []
        var token: String?
        listing: repeat {
            let page = try await storage.listObjectsPage(prefix: prefix, continuationToken: token)
            for object in page.objects {
                let name = String(object.key.dropFirst(prefix.count))
                if name >= firstNeeded { break listing }
                names.append(name)
            }
            token = page.nextContinuationToken
        } while token != nil
        let prunable = Self.prunable(names, before: firstNeeded)
        try await storage.deleteObjects(prunable.map { prefix + $0 })
        if !prunable.isEmpty {
            logger.info("archived WAL pruned", metadata: ["files": "\(prunable.count)", "before": "\(firstNeeded)"])
        }
        return prunable
    }
}
