import ArgumentParser
import FedArenaCore
import FedArenaData
import FedArenaNumerics
import FedArenaRuntime
import FedArenaScenarios
import FedArenaSynthesis
import Foundation

/// `fedarena synth`: fit a generator on real data and look at or measure what it makes.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Fit a generator on a client's data and write samples (PNG grid or NPY), or print the fidelity table.",
        discussion: """
              fedarena synth --generator gaussian-pca --count 8 --out pca.png
              fedarena synth --generator gmm --components 3 --class 7 --count 100 --out sneakers.npy
              fedarena synth --generator vae --scenario scenarios/synthetic/flip-gaussian-pca.yaml --client 3 --out c3.png
              fedarena synth --generator gan --steps 3000 --loss hinge --out gan.png
              fedarena synth --generator diffusion --sampling-steps 50 --schedule cosine --out diffusion.png
              fedarena synth --fidelity --train 600
              fedarena synth --fidelity --train 6000 --generators gan,diffusion
              fedarena synth --generator gaussian-pca --recursive 5
            Generator options are the generator's YAML keys as flags (--components 10, --latent 8, --epochs 30).
            Without --scenario the generator is fitted on the first --train training samples.
            --fidelity fits every generator (or --generators) with its defaults on the first --train
            training samples and scores --held-out test samples; the reference rows are the training
            samples themselves and --held-out further training samples no generator saw. Generator
            options given with --fidelity apply to every listed generator (pick one with --generators).
            NPY output writes FILE (n x 784 float32 in [0, 1]) and FILE-labels.npy (float32 classes).
            """)

    @Option(help: "The generator's YAML name (gaussian-pca, gmm, vae, gan, diffusion).")
    var generator: String?

    @Option(name: .customLong("class"), help: "Draw only this class (default: every class the data has).")
    var classIndex: Int?

    @Option(help: "Samples per class to draw.")
    var count: Int = 8

    @Option(help: "Where to write: FILE.png (a grid, one row per class) or FILE.npy.")
    var out: String?

    @Option(help: "Fit on a client's partition of this scenario (with --client).")
    var scenario: String?

    @Option(help: "The client whose partition to fit on (with --scenario).")
    var client: Int?

    @Option(help: "Training samples to fit on without --scenario (the first N).")
    var train: Int = 1_200

    @Option(help: "Sampling temperature (1 = the fitted spread).")
    var temperature: Double = 1

    @Option(help: "Seed of the fit and the draws.")
    var seed: UInt64 = 0

    @Flag(help: "Print the fidelity table of every generator against held-out real test data.")
    var fidelity = false

    @Option(help: "Held-out real test samples for --fidelity.")
    var heldOut: Int = 2_000

    @Option(help: "Comma-separated generators for --fidelity (default: every registered one).")
    var generators: String?

    @Option(help: "With --fidelity: also write each generator's draws as DIR/NAME.png (10 per class).")
    var grids: String?

    @Option(help: "Run recursive generation for this many generations and print the per-class variance.")
    var recursive: Int?

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Generator options as --key value pairs.", valueName: "generator-options"))
    var generatorOptions: [String] = []

    func validate() throws {
        if !fidelity && generator == nil { throw ValidationError("give --generator NAME (or --fidelity)") }
        if !fidelity && recursive == nil && out == nil { throw ValidationError("give --out FILE.png|FILE.npy (or --fidelity, --recursive)") }
        if let out, !(out.hasSuffix(".png") || out.hasSuffix(".npy")) { throw ValidationError("--out must end in .png or .npy, got \(out)") }
        if (scenario == nil) != (client == nil) { throw ValidationError("--scenario and --client go together") }
        if count < 1 || train < 2 || heldOut < 2 { throw ValidationError("--count, --train and --held-out must be positive") }
        if let recursive, recursive < 1 { throw ValidationError("--recursive must be at least 1") }
        if !(temperature > 0) { throw ValidationError("--temperature must be > 0") }
    }

    func run() throws {
        do {
            try execute()
        } catch let failure as CommandFailure {
            printError("fedarena synth: \(failure.message)")
            throw ExitCode(2)
        } catch {
            printError("fedarena synth: \(error)")
            throw ExitCode(1)
        }
    }

    private func execute() throws {
        if fidelity {
            let data = try FashionMNIST.load()
            let kinds = generators.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
                ?? GeneratorRegistry.standard.kinds
            let models = try kinds.map { try makeGenerator($0, options: try ComponentOptions.parse(generatorOptions)) }
            guard train + heldOut <= data.train.count, heldOut <= data.test.count else {
                throw CommandFailure("--train \(train) plus --held-out \(heldOut) exceed the \(data.train.count) training samples")
            }
            let rows = try SynthesisDemo.fidelityTable(
                generators: models, real: data.train.subset(0..<train), heldOut: data.test.subset(0..<heldOut),
                unseen: data.train.subset(train..<(train + heldOut)), seed: seed, gridDirectory: grids)
            print(FidelityRow.markdown(rows))
            return
        }
        let generator = try makeGenerator(self.generator!, options: try ComponentOptions.parse(generatorOptions))
        let samples = try fittingData()
        if let recursive {
            var rng = SeededGenerator(seed: seed)
            let generations = try RecursiveGeneration.run(
                generator: generator, data: samples, generations: recursive, samplesPerClass: max(count, 20),
                temperature: temperature, rng: &rng)
            let real = RecursiveGeneration.classVariance(samples)
            print("| generation | " + (0..<samples.classCount).map { "class \($0)" }.joined(separator: " | ") + " |")
            print("|---" + String(repeating: "|---", count: samples.classCount) + "|")
            func row(_ name: String, _ values: [Double?]) {
                print("| \(name) | " + values.map { $0.map { String(format: "%.4f", $0) } ?? "-" }.joined(separator: " | ") + " |")
            }
            row("0 (real)", real)
            for generation in generations { row(String(generation.index), generation.classVariance) }
            return
        }
        let source = samples
        if let classIndex {
            guard (0..<samples.classCount).contains(classIndex), samples.classHistogram[classIndex] > 0 else {
                throw CommandFailure("--class \(classIndex): the fitting data has no samples of that class")
            }
            let result = try SynthesisDemo.fitAndSample(generator, on: source, perClass: count, temperature: temperature, seed: seed)
            let only = result.samples.subset((0..<result.samples.count).filter { Int(result.samples.labels[$0]) == classIndex })
            try write(only)
            return
        }
        let result = try SynthesisDemo.fitAndSample(generator, on: source, perClass: count, temperature: temperature, seed: seed)
        try write(result.samples)
        printError(
            String(
                format: "fitted %@ on %d samples in %.2f s (%.2f CPU s), drew %d in %.2f s", generator.name, source.count, result.fitSeconds,
                result.fitCPUSeconds, result.samples.count, result.sampleSeconds))
    }

    private func makeGenerator(_ kind: String, options: [String: ConfigValue]) throws -> any Generator {
        do {
            return try GeneratorRegistry.standard.make(ComponentSpec(kind: kind, options: options, keyPath: "generator"))
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    private func fittingData() throws -> LabeledSamples {
        guard let scenario, let client else {
            let data = try FashionMNIST.load(.train, limit: train)
            return data.subset(0..<min(train, data.count))
        }
        let document = try ScenarioDocument(contentsOf: scenario)
        let config = try ScenarioSchema.decode(document)
        guard (0..<config.clients.count).contains(client) else {
            throw CommandFailure("--client \(client): \(scenario) has clients 0..<\(config.clients.count)")
        }
        // The PNG grid draws 28x28 greyscale tiles.
        if out?.hasSuffix(".png") == true, config.dataset.squareImageSide != 28 {
            throw CommandFailure(
                "--out \(out!): a PNG grid shows 28x28 greyscale images; \(scenario) has dataset.shape \(config.dataset.shape): write FILE.npy instead")
        }
        let federation = try FederationData.load(config: config, role: .clients([ClientID(client)]))
        guard let shard = federation.shard(for: ClientID(client)) else {
            throw CommandFailure("client \(client) has no data")
        }
        return shard
    }

    private func write(_ samples: LabeledSamples) throws {
        guard let out else { return }
        if out.hasSuffix(".png") {
            try SynthesisDemo.writePNG(samples, columns: classIndex == nil ? count : min(count, 16), to: out)
        } else {
            let labels = String(out.dropLast(4)) + "-labels.npy"
            try SynthesisDemo.writeNPY(samples, featuresPath: out, labelsPath: labels)
        }
        print("wrote \(samples.count) samples to \(out)")
    }
}
