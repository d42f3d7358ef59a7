import Testing

@testable import OperatorKit

@Suite("Bind addresses")
struct BindAddressTests {
    @Test func parsesControllerRuntimeForms() throws {
        #expect(try BindAddress(parsing: ":8080") == BindAddress(host: "0.0.0.0", port: 8080))
        #expect(try BindAddress(parsing: "127.0.0.1:8081") == BindAddress(host: "127.0.0.1", port: 8081))
        #expect(try BindAddress(parsing: "[::1]:9090") == BindAddress(host: "::1", port: 9090))
        #expect(try BindAddress(parsing: "0") == nil)
        #expect(throws: BindAddressError.self) { try BindAddress(parsing: "8080") }
        #expect(throws: BindAddressError.self) { try BindAddress(parsing: "host:http") }
        #expect(throws: BindAddressError.self) { try BindAddress(parsing: ":70000") }
    }
}
