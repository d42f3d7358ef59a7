import Foundation

/// Where generated secrets come from. The operator uses `SystemSecretGenerator`; tests pass a fixed one so the
/// builders stay pure functions with golden outputs.
public protocol SecretGenerator: Sendable {
    func password() -> String
    func uuid() -> String
}

/// Passwords of 32 letters and digits (about 190 bits) from the system CSPRNG (`getrandom` on Linux,
/// `arc4random_buf` on Apple platforms, through `SystemRandomNumberGenerator`). Letters and digits only, so the
/// value is safe unquoted in a URL, a shell and a connection string.
public struct SystemSecretGenerator: SecretGenerator {
    public static let passwordLength = 32
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    public init() {}

    public func password() -> String {
        var generator = SystemRandomNumberGenerator()
        // `randomElement(using:)` draws without modulo bias.
        return String((0..<Self.passwordLength).map { _ in Self.alphabet.randomElement(using: &generator)! })
    }

    public func uuid() -> String { UUID().uuidString.lowercased() }
}
