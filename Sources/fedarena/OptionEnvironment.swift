import Foundation

/// A command-line option or `FEDARENA_*` environment variable that cannot be used.
struct OptionError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem this is.
    struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable { case invalidValue, missingValue, conflict }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// A variable or option holds a value of the wrong form (`FEDARENA_PROCESS_INDEX=two`).
        static let invalidValue = Code(.invalidValue)
        /// A required setting is given neither as an option nor as a variable.
        static let missingValue = Code(.missingValue)
        /// Two settings exclude each other (`--resume` with `--overwrite`).
        static let conflict = Code(.conflict)

        var description: String {
            switch wrapped {
            case .invalidValue: "invalid value"
            case .missingValue: "missing value"
            case .conflict: "conflicting settings"
            }
        }
    }

    /// The kind of problem.
    var code: Code
    /// What is wrong, naming the option and its variable.
    var message: String

    /// Creates an error.
    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    var description: String { "\(code): \(message)" }
}

/// Reads `FEDARENA_*` variables for the options the command line left unset: the flag wins,
/// then the variable, then the option's default.
///
/// A variable set to the empty string counts as unset (so a manifest can blank one out).
struct OptionEnvironment: Sendable {
    /// The variables (the process environment, or a fixed dictionary in tests).
    let variables: [String: String]

    /// Reads from `variables`.
    /// - Parameter variables: The environment, by default the process's own.
    init(_ variables: [String: String] = ProcessInfo.processInfo.environment) {
        self.variables = variables
    }

    /// The variable's value, or `nil` when it is unset or empty.
    /// - Parameter name: The variable, e.g. `FEDARENA_BIND`.
    /// - Returns: The value without surrounding white space, or `nil`.
    func raw(_ name: String) -> String? {
        guard let value = variables[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    /// The flag's value, else the variable's.
    /// - Parameters:
    ///   - flag: What the command line gave, or `nil`.
    ///   - name: The variable.
    /// - Returns: The first of the two that is set.
    func string(_ flag: String?, _ name: String) -> String? {
        flag ?? raw(name)
    }

    /// The flag's value, else the variable's parsed with `parse`.
    /// - Parameters:
    ///   - flag: What the command line gave, or `nil`.
    ///   - name: The variable.
    ///   - expected: What a valid value looks like, for the error message.
    ///   - parse: Turns the variable's text into a value, or `nil` when it is malformed.
    /// - Returns: The flag's value, the variable's, or `nil` when neither is set.
    /// - Throws: ``OptionError`` `.invalidValue` naming the variable, its value and `expected`.
    func value<Value>(_ flag: Value?, _ name: String, expected: String, parse: (String) -> Value?) throws(OptionError) -> Value? {
        if let flag { return flag }
        guard let text = raw(name) else { return nil }
        guard let value = parse(text) else {
            throw OptionError(.invalidValue, "\(name)=\"\(text)\" is not \(expected)")
        }
        return value
    }

    /// An integer flag, else the variable's integer.
    /// - Throws: ``OptionError`` `.invalidValue` when the variable is not an integer.
    func int(_ flag: Int?, _ name: String) throws(OptionError) -> Int? {
        try value(flag, name, expected: "an integer") { Int($0) }
    }

    /// A number flag, else the variable's number.
    /// - Throws: ``OptionError`` `.invalidValue` when the variable is not a finite number.
    func double(_ flag: Double?, _ name: String) throws(OptionError) -> Double? {
        try value(flag, name, expected: "a number") { text in Double(text).flatMap { $0.isFinite ? $0 : nil } }
    }

    /// A Boolean flag, else the variable's `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    /// - Throws: ``OptionError`` `.invalidValue` for any other text.
    func bool(_ flag: Bool?, _ name: String) throws(OptionError) -> Bool? {
        try value(flag, name, expected: "true or false (or 1/0, yes/no, on/off)") { text in
            switch text.lowercased() {
            case "1", "true", "yes", "on": true
            case "0", "false", "no", "off": false
            default: nil
            }
        }
    }

    /// Scenario overrides: the variable's entries first, then the flags' (so that a flag for
    /// the same key wins).
    /// - Parameters:
    ///   - flags: The `--set` values of the command line.
    ///   - name: The variable, whose entries are separated by newlines or `;`.
    /// - Returns: The overrides to apply, in order.
    func overrides(_ flags: [String], _ name: String) -> [String] {
        guard let text = raw(name) else { return flags }
        let entries = text.split { $0 == "\n" || $0 == ";" }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        return entries + flags
    }
}
