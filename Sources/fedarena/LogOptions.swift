import ArgumentParser
import FedArenaReports
import Foundation
import Logging

/// How a process writes its log lines on standard error.
enum LogFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// JSON when standard error is not a terminal (a container, a pipe, a file), text otherwise.
    case auto
    /// One JSON object per line (``JSONLogHandler``).
    case json
    /// swift-log's plain text lines.
    case text

    /// The format `auto` stands for on this process's standard error.
    /// - Parameter terminal: Whether standard error is a terminal.
    /// - Returns: `.json` or `.text`.
    func resolved(terminal: Bool = isatty(STDERR_FILENO) == 1) -> LogFormat {
        self == .auto ? (terminal ? .text : .json) : self
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// `--log-format` and `--log-level` (and their `FEDARENA_*` variables), shared by
/// `fedarena coordinator` and `fedarena client`.
struct LogOptions: ParsableArguments {
    @Option(help: "Log lines as json, text, or auto: json when stderr is not a terminal (env FEDARENA_LOG_FORMAT; default auto).")
    var logFormat: LogFormat?

    @Option(help: "The lowest level logged: trace, debug, info, notice, warning, error, critical (env FEDARENA_LOG_LEVEL; default info).")
    var logLevel: Logger.Level?

    /// The format and level from the flags, else the variables, else `auto` and `info`.
    /// - Parameter environment: Where `FEDARENA_LOG_FORMAT` and `FEDARENA_LOG_LEVEL` are read.
    /// - Returns: The resolved format (never `auto`) and level.
    /// - Throws: ``OptionError`` `.invalidValue` naming the variable.
    func resolve(_ environment: OptionEnvironment) throws(OptionError) -> (format: LogFormat, level: Logger.Level) {
        let names = LogFormat.allCases.map(\.rawValue).joined(separator: ", ")
        let format = try environment.value(logFormat, "FEDARENA_LOG_FORMAT", expected: "one of \(names)") { LogFormat(rawValue: $0.lowercased()) }
        let levels = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
        let level = try environment.value(logLevel, "FEDARENA_LOG_LEVEL", expected: "one of \(levels)") { Logger.Level(rawValue: $0.lowercased()) }
        return ((format ?? .auto).resolved(), level ?? .info)
    }

    /// Resolves the options and installs the process's log handler (once per process, first
    /// thing in `run()`).
    /// - Parameters:
    ///   - environment: Where the variables are read.
    ///   - command: The command's name, for the message of a bad variable.
    /// - Returns: The process's log setup.
    /// - Throws: `ExitCode(2)` after printing the problem when a value is invalid.
    func bootstrap(_ environment: OptionEnvironment, command: String) throws -> ProcessLog {
        let format: LogFormat
        let level: Logger.Level
        do throws(OptionError) {
            (format, level) = try resolve(environment)
        } catch {
            printError("fedarena \(command): \(error.message)")
            throw ExitCode(ExitStatus.invalid)
        }
        let log = ProcessLog(format: format, level: level)
        LoggingSystem.bootstrap({ label, provider in log.handler(label: label, metadataProvider: provider) }, metadataProvider: nil)
        return log
    }
}

/// The log setup of one `fedarena` process: its format, level and output.
struct ProcessLog: Sendable {
    /// `.json` or `.text`.
    let format: LogFormat
    /// The lowest level written.
    let level: Logger.Level
    /// The shared standard-error output of the JSON handlers.
    private let output = JSONLogHandler.Output()

    /// Creates the setup.
    init(format: LogFormat, level: Logger.Level) {
        self.format = format
        self.level = level
    }

    /// The handler a logger with `label` gets.
    func handler(label: String, metadataProvider: Logger.MetadataProvider?) -> any LogHandler {
        switch format {
        case .json:
            return JSONLogHandler(label: label, output: output, level: level, metadataProvider: metadataProvider)
        case .auto, .text:
            var handler = StreamLogHandler.standardError(label: label, metadataProvider: metadataProvider)
            handler.logLevel = level
            return handler
        }
    }

    /// A logger of this setup.
    func logger(_ label: String) -> Logger {
        Logger(label: label) { label in handler(label: label, metadataProvider: nil) }
    }

    /// The launcher's progress output: the usual lines on a text log, log lines (with the
    /// step's numbers as metadata) on a JSON log.
    /// - Parameter logger: The logger that JSON progress goes to.
    /// - Returns: The progress output to hand the launcher.
    func progress(to logger: Logger) -> ProgressLine {
        guard format == .json else { return ProgressLine() }
        return ProgressLine { entry in
            guard let step = entry.step else {
                // The launcher's notes, and coordinator warnings it forwards as "LEVEL: message".
                let (level, message) = Self.splitLevel(entry.text)
                logger.log(level: level, "\(message)")
                return
            }
            logger.info(
                "\(entry.text)",
                metadata: [
                    "step": .string(step.label), "done": .stringConvertible(step.done), "total": .stringConvertible(step.total),
                    "elapsed_s": .string(String(format: "%.3f", step.elapsed)), "detail": .string(step.detail),
                ])
        }
    }

    /// A note's level and message: `warning: text` is a warning, anything else is a notice.
    static func splitLevel(_ text: String) -> (Logger.Level, String) {
        if let colon = text.firstIndex(of: ":"), let level = Logger.Level(rawValue: String(text[..<colon])) {
            return (level, text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return (.notice, text)
    }
}
