import Foundation

/// A `.safetensors` file: an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
/// byte range, then the data. Only what the header promises is read, and every promise is checked against the file.
public struct SafeTensorsFile {
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
    private let data: Data
    private let dataStart: Int

    public init(contentsOf url: URL) throws(MiniLMError) {
        path = url.path
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw .missingFile(path: url.path, fix: "the model directory needs the model's weights (model.safetensors)")
        }
        do {
            // Mapped, not read: only the tensors copied out are ever paged in, and nothing stays once this is gone.
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw .corruptFile(path: url.path, problem: "it cannot be read (\(error.localizedDescription))")
        }
        guard data.count >= 8 else { throw .corruptFile(path: url.path, problem: "it is \(data.count) bytes, shorter than a header") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw .corruptFile(path: url.path, problem: "its header claims \(headerLength) bytes but the file has \(data.count)")
        }
        dataStart = 8 + Int(headerLength)
        let header: [String: TensorInfo]
        do {
            var object = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<dataStart)) as? [String: Any] ?? [:]
            object.removeValue(forKey: "__metadata__")
            header = try JSONDecoder().decode([String: TensorInfo].self, from: JSONSerialization.data(withJSONObject: object))
        } catch {
            throw .corruptFile(path: url.path, problem: "its header is not a safetensors JSON header")
        }
        tensors = header
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
            dataStart + info.dataOffsets[1] <= data.count
        else {
            throw .corruptFile(path: path, problem: "tensor \(name)'s bytes \(info.dataOffsets) do not fit its shape or the file")
        }
        let start = dataStart + info.dataOffsets[0]
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBytes { destination in
            data.withUnsafeBytes { source in
                destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<(start + count * 4)]))
            }
        }
        // The format is little-endian; so is every machine this runs on, but say so rather than assume it.
        if UInt32(littleEndian: 1) != 1 {
            for index in values.indices { values[index] = Float(bitPattern: UInt32(littleEndian: values[index].bitPattern)) }
        }
        let finite = values.withUnsafeBufferPointer { buffer in buffer.allSatisfy { $0.isFinite } }
        guard finite else { throw .corruptFile(path: path, problem: "tensor \(name) holds values that are not finite") }
        return values
    }
}
