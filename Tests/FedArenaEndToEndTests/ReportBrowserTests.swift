import Foundation
import Testing

/// Headless Chromium, found on PATH (Debian's `chromium`, which .ci/setup installs) or
/// through `$FEDARENA_CHROMIUM`.
enum Chromium {
    static let path: String? = {
        if let explicit = ProcessInfo.processInfo.environment["FEDARENA_CHROMIUM"], FileManager.default.isExecutableFile(atPath: explicit) {
            return explicit
        }
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map(String.init) + ["/usr/bin"]
        for folder in folders {
            for name in ["chromium", "chromium-browser", "google-chrome"] where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
                return "\(folder)/\(name)"
            }
        }
        return nil
    }()

    /// What the browser printed: the DOM (or nothing) and its log with console messages.
    struct Rendered {
        var dom: String
        var log: String
        /// Lines of the log that are console messages of the page (errors, uncaught exceptions).
        var consoleLines: [String] { log.split(separator: "\n").map(String.init).filter { $0.contains(":CONSOLE") } }
    }

    /// Loads `page` headless; with `screenshot`, writes a PNG of `width` x `height` pixels.
    static func render(_ page: String, screenshot: String? = nil, width: Int = 1280, height: Int = 1800, scratch: String) async throws -> Rendered {
        let browser = try #require(path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        var arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--enable-logging=stderr", "--v=0",
            "--user-data-dir=\(scratch)/chromium-profile", "--window-size=\(width),\(height)",
        ]
        arguments.append(screenshot.map { "--screenshot=\($0)" } ?? "--dump-dom")
        arguments.append(URL(fileURLWithPath: page).absoluteString)
        process.arguments = arguments
        let out = scratch + "/chromium-out.txt"
        let err = scratch + "/chromium-err.txt"
        try #require(FileManager.default.createFile(atPath: out, contents: nil), "cannot create \(out)")
        try #require(FileManager.default.createFile(atPath: err, contents: nil), "cannot create \(err)")
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        await ChildProcess.finish(process, timeout: 120, what: "chromium on \(page)")
        return Rendered(
            dom: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "", log: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }
}

/// `fedarena report` rendered in a real browser: the expected charts are in the DOM, the
/// page logs no console message, and the screenshot is not blank.
@Suite(.serialized, .enabled(if: Chromium.path != nil, "chromium is not installed here; .ci/setup installs Debian's chromium and CI runs this test"))
struct ReportBrowserTests {
    /// Where the screenshots stay for a human to look at: `$FEDARENA_SCREENSHOTS`, or a
    /// folder under the temporary directory.
    static let screenshots: String = ProcessInfo.processInfo.environment["FEDARENA_SCREENSHOTS"]
        ?? FileManager.default.temporaryDirectory.appendingPathComponent("fedarena-screenshots").path

    /// Checks a screenshot: the window's size, some non-white pixels, many colours.
    static func expectNotBlank(_ path: String, width: Int, height: Int) throws {
        let image = try PNGImage(contentsOf: path)
        #expect(image.width == width && image.height == height, "\(path): \(image.width)x\(image.height)")
        let grey = image.greyLevels
        let inked = Double(grey.filter { $0 < 235 }.count) / Double(grey.count)
        let mean = grey.reduce(0, +) / Double(grey.count)
        let variance = grey.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(grey.count)
        #expect(inked > 0.02, "\(path): only \(inked) of the pixels are not white")
        #expect(variance > 100, "\(path): grey variance \(variance)")
        #expect(image.distinctColours() > 50, "\(path): \(image.distinctColours()) colours")
    }

    @Test func theHarnessSeesConsoleErrorsAndBlankPages() async throws {
        let scratch = try SweepProcess.folder("browser-harness")
        try "<!DOCTYPE html><html><body><p>x</p><script>throw new Error(\"deliberate\")</script></body></html>"
            .write(toFile: scratch + "/bad.html", atomically: true, encoding: .utf8)
        let bad = try await Chromium.render(scratch + "/bad.html", scratch: scratch)
        #expect(bad.consoleLines.contains { $0.contains("deliberate") }, "\(bad.log)")
        try "<!DOCTYPE html><html><body style=\"background:#fff\"></body></html>".write(toFile: scratch + "/blank.html", atomically: true, encoding: .utf8)
        _ = try await Chromium.render(scratch + "/blank.html", screenshot: scratch + "/blank.png", width: 400, height: 300, scratch: scratch)
        let blank = try PNGImage(contentsOf: scratch + "/blank.png")
        #expect(blank.width == 400 && blank.height == 300)
        #expect(blank.greyLevels.allSatisfy { $0 > 250 }, "a blank page should decode to white")
        try? FileManager.default.removeItem(atPath: scratch)
    }

    @Test func sweepAndRunReportsRenderWithEveryChartAndNoConsoleError() async throws {
        let scratch = try SweepProcess.folder("browser-report")
        let sweep = scratch + "/sweep.yaml"
        try """
            name: browser
            base:
              name: browser
              seed: 1
              dataset: { name: fashion-mnist, partition: { kind: dirichlet, alpha: 0.5 }, train_subset: 3000, test_subset: 500, root_samples: 200 }
              model: { kind: mlp, hidden: [16] }
              training: { rounds: 3, local_epochs: 1, batch_size: 32, lr: 0.1 }
              clients: { count: 8, per_round: 8, processes: 2 }
              defense:
                detection: [ { kind: root-audit }, { kind: update-similarity } ]
                aggregator: { kind: multi-krum, f: 2 }
              transport: { endpoint: "tcp://127.0.0.1:0", round_timeout_s: 20 }
            axes:
              attack:
                none: none
                backdoor: { kind: backdoor, target: 2, rate: 0.5, boost: 4, fraction: 0.25 }
              seed: [1, 2]
            """.write(toFile: sweep, atomically: true, encoding: .utf8)
        let out = scratch + "/out"
        let swept = try await SweepProcess.run(["sweep", sweep, "--out", out], outputPath: scratch + "/sweep.txt")
        #expect(swept.status == 0, "\(swept.output)")
        let report = try await SweepProcess.run(["report", out, "--cells"], outputPath: scratch + "/report.txt")
        #expect(report.status == 0, "\(report.output)")
        #expect(report.output.contains("4 cell reports"), "\(report.output)")
        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)

        let pages: [(page: String, charts: [String], shot: String)] = [
            (out + "/report.html",
             ["chart-matrix-final-accuracy", "chart-matrix-accuracy-drop", "chart-matrix-final-asr", "chart-matrix-detection-tpr",
              "chart-matrix-detection-auc", "chart-curves-1"], "sweep-report.png"),
            (out + "/attack-backdoor__seed-1/report.html",
             ["chart-accuracy", "chart-loss", "chart-asr", "chart-per-class-accuracy", "chart-suspicion", "chart-roc", "chart-weights"],
             "run-report.png"),
        ]
        for (page, charts, shot) in pages {
            let rendered = try await Chromium.render(page, scratch: scratch)
            for chart in charts {
                #expect(rendered.dom.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"\(chart)\""), "\(page) lacks \(chart)")
            }
            #expect(rendered.consoleLines.isEmpty, "\(page): \(rendered.consoleLines)")
            let path = Self.screenshots + "/" + shot
            let shotRun = try await Chromium.render(page, screenshot: path, scratch: scratch)
            #expect(shotRun.consoleLines.isEmpty, "\(page): \(shotRun.consoleLines)")
            try Self.expectNotBlank(path, width: 1280, height: 1800)
            print("screenshot of \(page): \(path)")
        }
        // Every chart is also its own SVG file, and the sweep page links each cell's scenario.
        for chart in ["matrix-final-accuracy", "curves-1"] {
            #expect(FileManager.default.fileExists(atPath: out + "/charts/\(chart).svg"), "\(chart)")
        }
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        #expect(html.contains("<a href=\"attack-backdoor__seed-1/report.html\">report</a>"))
        #expect(html.components(separatedBy: "<details><summary>").count - 1 == 4)
        try? FileManager.default.removeItem(atPath: scratch)
    }
}
