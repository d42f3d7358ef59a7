// Not re-exported: clients of PostgresBackup need no zlib headers.
internal import CZlib

/// gzip through zlib, for WAL segments: a whole segment (16 MiB) at a time, in memory, as wal-push reads it.
public enum Gzip {
    /// zlib's gzip wrapper: window bits 15, plus 16 for a gzip header and trailer instead of zlib's.
    static let gzipWindowBits: Int32 = 15 + 16

    /// `bytes` as a gzip member. Level 1 is zlib's fastest: archive_command holds back the server's WAL while it runs,
    /// and WAL full of page images compresses well even so.
    public static func compress(_ bytes: [UInt8], level: Int32 = 1) throws -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, level, Z_DEFLATED, gzipWindowBits, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { throw BackupFailure("zlib cannot start a gzip stream (level \(level))") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 32)
        let status = bytes.withUnsafeBufferPointer { input -> Int32 in
            output.withUnsafeMutableBufferPointer { out -> Int32 in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw BackupFailure("zlib could not compress \(bytes.count) bytes (status \(status))") }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    /// The bytes of a gzip member, refusing more than `limit` of them (a damaged or hostile object must not fill
    /// memory) and anything that is not one whole, intact member.
    public static func decompress(_ bytes: [UInt8], limit: Int) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, gzipWindowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw BackupFailure("zlib cannot start a gunzip stream")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        return try bytes.withUnsafeBufferPointer { input -> [UInt8] in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = uInt(input.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, out.count - Int(stream.avail_out))
                }
                output.append(contentsOf: chunk[..<produced])
                if output.count > limit { throw BackupFailure("gzip data inflates past \(limit) bytes; refusing it") }
                switch status {
                case Z_STREAM_END:
                    guard stream.avail_in == 0 else { throw BackupFailure("gzip data has \(stream.avail_in) bytes after its end") }
                    return output
                case Z_OK: continue
                case Z_BUF_ERROR where produced > 0: continue
                default: throw BackupFailure("gzip data is damaged or cut short (zlib status \(status))")
                }
            }
        }
    }
}
