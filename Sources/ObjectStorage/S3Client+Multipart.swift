import AsyncHTTPClient
import NIOCore

extension S3Client {
    /// What an upload stored.
    public struct UploadResult: Sendable, Equatable {
        public var key: String
        public var size: Int64
        /// 0 for a single PutObject, else the number of parts.
        public var parts: Int

        public init(key: String, size: Int64, parts: Int) {
            self.key = key
            self.size = size
            self.parts = parts
        }
    }

    /// S3's smallest part but the last; parts are at most 10,000, so 8 MiB parts carry objects up to 78 GiB and
    /// larger ones need a larger `partSize`.
    public static let minimumPartSize = 5 << 20

    /// Stores what `source` yields under `key` without holding more than one part in memory: a body shorter than
    /// `partSize` goes in one PutObject, a longer one as a multipart upload whose parts are sent as they fill. A
    /// failure aborts the upload, so S3 keeps no orphaned parts.
    public func upload<Source: AsyncSequence & Sendable>(
        _ key: String, from source: Source, partSize: Int = 8 << 20, contentType: String = "application/octet-stream"
    ) async throws -> UploadResult where Source.Element == ByteBuffer {
        precondition(partSize >= Self.minimumPartSize, "S3 refuses parts under 5 MiB but the last")
        var pending = ByteBuffer()
        var uploadID: String?
        var etags: [String] = []
        var size: Int64 = 0
        do {
            for try await chunk in source {
                var chunk = chunk
                size += Int64(chunk.readableBytes)
                pending.writeBuffer(&chunk)
                while pending.readableBytes >= partSize {
                    let part = pending.readSlice(length: partSize)!
                    pending.discardReadBytes()
                    let id: String
                    if let started = uploadID {
                        id = started
                    } else {
                        id = try await createMultipartUpload(key, contentType: contentType)
                        uploadID = id
                    }
                    etags.append(try await uploadPart(key, uploadID: id, number: etags.count + 1, bytes: Array(buffer: part)))
                }
            }
            guard let id = uploadID else {
                try await putObject(key, bytes: Array(buffer: pending), contentType: contentType)
                return UploadResult(key: key, size: size, parts: 0)
            }
            if pending.readableBytes > 0 || etags.isEmpty {
                etags.append(try await uploadPart(key, uploadID: id, number: etags.count + 1, bytes: Array(buffer: pending)))
            }
            try await completeMultipartUpload(key, uploadID: id, etags: etags)
            return UploadResult(key: key, size: size, parts: etags.count)
        } catch {
            if let uploadID {
                do {
                    try await abortMultipartUpload(key, uploadID: uploadID)
                } catch let abortError {
                    logger.warning("a failed multipart upload could not be aborted", metadata: ["key": "\(key)", "error": "\(abortError)"])
                }
            }
            throw error
        }
    }

    /// The keys of multipart uploads begun and neither completed nor aborted (S3 keeps, and bills, their parts).
    public func pendingMultipartUploads() async throws -> [String] {
        let response = try await send("ListMultipartUploads", .GET, key: nil, query: [("uploads", "")])
        return S3XML.blocks("Upload", in: try await Self.text(response)).compactMap { S3XML.text("Key", in: $0) }
    }

    func createMultipartUpload(_ key: String, contentType: String) async throws -> String {
        let response = try await send("CreateMultipartUpload", .POST, key: key, query: [("uploads", "")], headers: ["content-type": contentType])
        let text = try await Self.text(response)
        guard let id = S3XML.text("UploadId", in: text), !id.isEmpty else {
            throw S3Error(action: "CreateMultipartUpload", status: 200, code: "", message: "the answer has no UploadId")
        }
        return id
    }

    func uploadPart(_ key: String, uploadID: String, number: Int, bytes: [UInt8]) async throws -> String {
        let response = try await send("UploadPart", .PUT, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)], body: bytes)
        _ = try await response.body.collect(upTo: 1 << 20)
        guard let etag = response.headers.first(name: "etag") else {
            throw S3Error(action: "UploadPart", status: 200, code: "", message: "part \(number) was answered without an ETag")
        }
        return etag
    }

    func completeMultipartUpload(_ key: String, uploadID: String, etags: [String]) async throws {
        let parts = etags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\(S3XML.escaped($0.element))</ETag></Part>" }
        let body = Array("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\(parts.joined())</CompleteMultipartUpload>".utf8)
        let response = try await send(
            "CompleteMultipartUpload", .POST, key: key, query: [("uploadId", uploadID)], headers: ["content-type": "application/xml"], body: body)
        // S3 can answer 200 and still fail the completion in the body.
        let text = try await Self.text(response)
        if text.contains("<Error>") {
            throw S3Error(
                action: "CompleteMultipartUpload", status: 200, code: S3XML.text("Code", in: text) ?? "", message: S3XML.text("Message", in: text) ?? "")
        }
    }

    func abortMultipartUpload(_ key: String, uploadID: String) async throws {
        let response = try await send("AbortMultipartUpload", .DELETE, key: key, query: [("uploadId", uploadID)])
        _ = try await response.body.collect(upTo: 1 << 20)
    }
}
