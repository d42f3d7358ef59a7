import Foundation
import PostgresBackup
import Testing

@Suite("WAL positions, pg_basebackup's report, recovery settings")
struct WALPositionTests {
    @Test("an LSN names its 16 MiB segment on a timeline")
    func segmentNames() {
        #expect(WALPosition("0/2000028")!.segmentName(timeline: 1) == "000000010000000000000002")
        #expect(WALPosition("1/FF000000")!.segmentName(timeline: 3) == "0000000300000001000000FF")
        #expect(WALPosition("16/B374D848")!.description == "16/B374D848")
        #expect(WALPosition("nonsense") == nil)
    }

    @Test("the manifest keeps microseconds and round-trips")
    func manifestRoundTrip() throws {
        let start = Date(timeIntervalSince1970: 1_796_000_000.123456)
        let manifest = BaseBackupManifest(
            startLSN: WALPosition("0/2000028")!, endLSN: WALPosition("0/3000100")!, timeline: 2, startTime: start, endTime: start.addingTimeInterval(5),
            source: "db-1:5432", fromStandby: true, size: 42, sha256: "ab", walArchivePrefix: "x/wal_archive/")
        let decoded = try BaseBackupManifest.decoded(try manifest.encoded())
        #expect(try decoded.encoded() == (try manifest.encoded()))
        #expect(decoded.startWAL == "000000020000000000000002")
        #expect(decoded.endWAL == "000000020000000000000003")
        #expect(BaseBackupManifest.timestamp(start) == "2026-11-30T00:53:20.123456Z")
    }
}
