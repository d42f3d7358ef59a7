import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A `.safetensors` file: an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
/// byte range, then the data. Only what the header promises is read, and every promise is checked against the file.
/// Tensors are read with `pread` straight into their arrays: neither a mapping nor a second copy of the 90 MB of
/// weights is ever resident.
public final class SafeTensorsFile {
    public struct TensorInfo: Decodable, Sendable {
        public var dtype: String
        public var shape: [Int]
        public var dataOffsets: [Int]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    public let path: String
    public let tensors: [String: TensorInfo]
    private let descriptor: Int32
    private let fileSize: Int
    private let dataStart: Int

    public init(contentsOf url: URL) throws(MiniLMError) {
        path = url.path
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw .missingFile(path: url.path, fix: "the model directory needs the model's weights (model.safetensors)")
        }
        descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .corruptFile(path: url.path, problem: "it cannot be opened (\(String(cString: strerror(errno))))")
        }
        var status = stat()
        fileSize = fstat(descriptor, &status) == 0 ? Int(status.st_size) : 0
        var lengthBytes = [UInt8](repeating: 0, count: 8)
        guard fileSize >= 8, Self.read(descriptor, into: &lengthBytes, at: 0) else {
            close(descriptor)
            throw .corruptFile(path: url.path, problem: "it is \(fileSize) bytes, shorter than a header")
        }
        let headerLength = lengthBytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(fileSize - 8) else {
            close(descriptor)
            throw .corruptFile(path: url.path, problem: "its header claims \(headerLength) bytes but the file has \(fileSize)")
        }
        dataStart = 8 + Int(headerLength)
        let header: [String: TensorInfo]
        do {
            var headerBytes = [UInt8](repeating: 0, count: Int(headerLength))
            guard Self.read(descriptor, into: &headerBytes, at: 8) else { throw CocoaError(.fileReadUnknown) }
            var object = try JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any] ?? [:]
            object.removeValue(forKey: "__metadata__")
            header = try JSONDecoder().decode([String: TensorInfo].self, from: JSONSerialization.data(withJSONObject: object))
        } catch {
            close(descriptor)
            throw .corruptFile(path: url.path, problem: "its header is not a safetensors JSON header")
        }
        tensors = header
    }

    deinit {
        close(descriptor)
    }

    /// Fills `buffer` from `offset`; false when the file ends first or cannot be read.
    private static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
        var done = 0
        while done < buffer.count {
            let count = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return false }
            done += count
        }
        return true
    }

    private static func read(_ descriptor: Int32, into bytes: inout [UInt8], at offset: Int) -> Bool {
        bytes.withUnsafeMutableBytes { read(descriptor, into: $0, at: offset) }
    }

    /// The float32 tensor `name`, checked to have `shape` and to lie inside the file.
    public func float32(_ name: String, shape: [Int]) throws(MiniLMError) -> [Float] {
        guard let info = tensors[name] else {
            throw .corruptFile(path: path, problem: "it has no tensor \(name)")
        }
        guard info.dtype == "F32" else {
            throw .unsupportedModel(path: path, problem: "tensor \(name) is \(info.dtype); this embedder runs float32 (F32) weights")
        }
        guard info.shape == shape else {
            throw .unsupportedModel(path: path, problem: "tensor \(name) has shape \(info.shape), not \(shape)")
        }
        let count = shape.reduce(1, *)
        guard info.dataOffsets.count == 2, info.dataOffsets[1] - info.dataOffsets[0] == count * 4, info.dataOffsets[0] >= 0,
            dataStart + info.dataOffsets[1] <= fileSize
        else {
            throw .corruptFile(path: path, problem: "tensor \(name)'s bytes \(info.dataOffsets) do not fit its shape or the file")
        }
        let start = dataStart + info.dataOffsets[0]
        var values = [Float](repeating: 0, count: count)
        let complete = values.withUnsafeMutableBytes { Self.read(descriptor, into: $0, at: start) }
        guard complete else { throw .corruptFile(path: path, problem: "tensor \(name) cannot be read whole") }
        // The format is little-endian; so is every machine this runs on, but say so rather than assume it.
        if UInt32(littleEndian: 1) != 1 {
            for index in values.indices { values[index] = Float(bitPattern: UInt32(littleEndian: values[index].bitPattern)) }
        }
        let finite = values.withUnsafeBufferPointer { buffer in buffer.allSatisfy { $0.isFinite } }
        guard finite else { throw .corruptFile(path: path, problem: "tensor \(name) holds values that are not finite") }
        return values
    }
}
