import Foundation
import KubeKit
import Logging
import Synchronization
import Testing

@testable import OperatorKit

@Suite("JSON logs")
struct JSONLogHandlerTests {
    @Test func writesOneObjectPerLineWithZapFieldNames() throws {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "vectorblocks.cluster") { label in
            JSONLogHandler(label: label, logLevel: .info) { line in lines.withLock { $0.append(line) } }
        }
        logger[metadataKey: "controller"] = "cluster"
        logger.debug("not written at info level")
        logger.info("reconciled", metadata: ["key": "default/orders", "objects": ["a", "b"]])
        logger.error("failed", metadata: ["error": "boom"])

        let written = lines.withLock { $0 }
        #expect(written.count == 2)
        let info = try JSONDecoder().decode(JSONValue.self, from: Data(written[0].utf8))
        #expect(info["level"] == "info")
        #expect(info["logger"] == "vectorblocks.cluster")
        #expect(info["msg"] == "reconciled")
        #expect(info["controller"] == "cluster")
        #expect(info["key"] == "default/orders")
        #expect(info["objects"] == ["a", "b"])
        #expect(info["ts"]?.stringValue?.hasSuffix("Z") == true)
        let error = try JSONDecoder().decode(JSONValue.self, from: Data(written[1].utf8))
        #expect(error["level"] == "error")
        #expect(error["caller"]?.stringValue?.hasPrefix("JSONLogHandlerTests.swift:") == true)
    }
}
