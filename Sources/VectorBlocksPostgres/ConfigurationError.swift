/// A setting that cannot work, with the setting's name and what to do instead.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    public var field: String
    public var problem: String
    public var fix: String

    public init(field: String, problem: String, fix: String) {
        self.field = field
        self.problem = problem
        self.fix = fix
    }

    public var description: String { "\(field): \(problem); \(fix)" }
}
