/// A listen address as controller-runtime's flags write it: `:8080` (every interface), `127.0.0.1:8081`, `[::1]:8081`,
/// or `0` to turn the listener off.
public struct BindAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// nil for "0", which means "do not listen".
    public init?(parsing text: String) throws(BindAddressError) {
        if text == "0" { return nil }
        guard let colon = text.lastIndex(of: ":") else { throw BindAddressError(text: text) }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw BindAddressError(text: text)
        }
        self.init(host: host.isEmpty ? "0.0.0.0" : host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

public struct BindAddressError: Error, Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public var description: String {
        "invalid bind address \"\(text)\": use :PORT, HOST:PORT or [IPv6]:PORT, such as :8080 or 127.0.0.1:8081, or 0 to turn it off"
    }
}
