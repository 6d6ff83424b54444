import FedArenaCore
import FedArenaDefenses
import FedArenaNumerics

/// Labelled Gaussian blobs: class `c` centred at `center(c)` with per-coordinate spread `spread`.
func blobs(count perClass: Int, classes: Int = 2, dimension: Int = 10, spread: Double = 1, shift: Double = 0, seed: UInt64) -> LabeledSamples {
    var rng = SeededGenerator(seed: seed)
    var features = [Float]()
    var labels = [Int32]()
    for c in 0..<classes {
        for _ in 0..<perClass {
            for j in 0..<dimension {
                let center = j % classes == c ? 2.0 : 0.0
                features.append(Float(center + shift + spread * rng.normal()))
            }
            labels.append(Int32(c))
        }
    }
    return LabeledSamples(features: features, labels: labels, featureCount: dimension, classCount: classes)
}

/// A detection context over `d` parameters with a root set.
func detectionContext(
    dimension: Int, round: Int = 1, seed: UInt64 = 9, rootSet: LabeledSamples? = nil, reference: [Float]? = nil,
    sketches: [ClientID: DataSketch] = [:], memory: AggregatorMemory = AggregatorMemory(), global: [Float]? = nil
) -> DetectionContext {
    DetectionContext(
        round: round, roundSeed: seed, globalModel: ParameterVector(global ?? [Float](repeating: 0, count: dimension)),
        rootSet: rootSet ?? LabeledSamples(features: [], labels: [], featureCount: 1, classCount: 1),
        referenceUpdate: reference.map(ParameterVector.init), sketches: sketches, memory: memory)
}

/// Updates of `d = 50`: 8 honest clients near one direction, then `bad` rows.
func honestRound(bad: [[Float]], seed: UInt64 = 3, round: Int = 1) -> (updates: [ClientUpdate], direction: [Float]) {
    var rng = SeededGenerator(seed: seed)
    let direction = (0..<50).map { _ in Float(rng.normal()) }
    var rows = [[Float]]()
    for _ in 0..<8 { rows.append(direction.map { $0 + Float(0.3 * rng.normal()) }) }
    rows += bad
    let updates = rows.enumerated().map { ClientUpdate(client: ClientID($0.offset), round: round, sampleCount: 10, delta: ParameterVector($0.element)) }
    return (updates, direction)
}

/// Runs a detector with a fixed generator.
func run(_ detector: some Detector, _ updates: [ClientUpdate], _ context: DetectionContext, seed: UInt64 = 5) throws(DetectionError) -> DetectionOutput {
    var rng = SeededGenerator(seed: seed)
    return try detector.detect(updates, context: context, using: &rng)
}

/// The clients sorted by score, highest first.
func ranking(_ output: DetectionOutput) -> [Int] {
    output.suspicions.sorted { $0.value.score > $1.value.score || ($0.value.score == $1.value.score && $0.key < $1.key) }.map(\.key.rawValue)
}
