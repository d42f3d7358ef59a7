import Dispatch
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// A pipe's bytes as an asynchronous sequence of chunks of up to `chunkSize` bytes, each read on a Dispatch thread
/// when the consumer asks for it: the writer blocks while the consumer (an S3 upload) is busy, so nothing but one
/// chunk and the upload's part is ever held in memory.
struct PipeChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let descriptor: Int32
    var chunkSize = 1 << 20

    struct AsyncIterator: AsyncIteratorProtocol {
        let descriptor: Int32
        let chunkSize: Int
        var finished = false

        mutating func next() async throws -> ByteBuffer? {
            guard !finished else { return nil }
            let descriptor = self.descriptor
            let chunkSize = self.chunkSize
            let chunk: [UInt8] = try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(with: Result { try Self.fill(descriptor, upTo: chunkSize) })
                }
            }
            if chunk.isEmpty {
                finished = true
                return nil
            }
            return ByteBuffer(bytes: chunk)
        }

        /// Fills up to `limit` bytes, returning fewer only at end of file.
        static func fill(_ descriptor: Int32, upTo limit: Int) throws -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: limit)
            var filled = 0
            while filled < limit {
                let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + filled, limit - filled) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw BackupFailure("reading a pipe failed: errno \(errno)")
                }
                if count == 0 { break }
                filled += count
            }
            bytes.removeLast(limit - filled)
            return bytes
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(descriptor: descriptor, chunkSize: chunkSize)
    }
}

/// Writes all of `bytes` to a pipe on a Dispatch thread (the reader may take its time).
func writeAll(_ bytes: ByteBuffer, to descriptor: Int32) async throws {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
        DispatchQueue.global().async {
            continuation.resume(
                with: Result {
                    try bytes.withUnsafeReadableBytes { raw in
                        var written = 0
                        while written < raw.count {
                            let count = write(descriptor, raw.baseAddress! + written, raw.count - written)
                            if count < 0 {
                                if errno == EINTR { continue }
                                throw BackupFailure("writing to a pipe failed: errno \(errno)")
                            }
                            written += count
                        }
                    }
                })
        }
    }
}
