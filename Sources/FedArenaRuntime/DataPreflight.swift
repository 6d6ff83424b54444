import FedArenaCore

/// Refuses, before any process starts, the plug-ins that cannot work on the scenario's data shape.
///
/// Everything else works on any shape: the models take `dataset.featureCount` inputs and
/// `dataset.classCount` classes, the generators and the sketch detectors work on flat feature
/// vectors of any length, label flips on any class count. What assumes images:
/// - `backdoor` (and `synthetic-poison` with `poison.kind: backdoor`) stamps a square pixel
///   patch on square single-channel images (`[1, S, S]` or `[S, S]`, 28x28 for Fashion-MNIST);
/// - `audit-c2st` has clients reveal samples whose values the wire format requires in [0, 1],
///   which image data is (uint8 pixels / 255, float images are checked on load) but tabular
///   data need not be.
public enum DataPreflight {
    /// Checks the attack and the detectors against `config.dataset.shape`.
    /// - Parameter config: The scenario (its dataset section resolved).
    /// - Throws: ``ConfigError`` `.invalidValue` at the attack's or detector's key path, naming
    ///   the shape and what the plug-in needs.
    public static func check(_ config: ScenarioConfig) throws(ConfigError) {
        let shape = config.dataset.shape
        if let attack = config.attack, config.dataset.squareImageSide == nil {
            var stamps = attack.kind == "backdoor"
            var keyPath = attack.keyPath.isEmpty ? "attack" : attack.keyPath
            if attack.kind == "synthetic-poison", case .object(let poison)? = attack.options["poison"],
                case .string("backdoor")? = poison["kind"]
            {
                stamps = true
                keyPath += ".poison"
            }
            if stamps {
                throw ConfigError(
                    .invalidValue, keyPath: keyPath + ".kind",
                    "a backdoor stamps a square pixel trigger on square single-channel images ([1, S, S]); dataset.shape \(shape) is "
                        + (shape.count == 1 ? "tabular" : "not such an image") + ": use label-flip or an update attack instead")
            }
        }
        if !config.dataset.isImage {
            for spec in config.defense.detection where spec.kind == "audit-c2st" {
                throw ConfigError(
                    .invalidValue, keyPath: (spec.keyPath.isEmpty ? "defense.detection" : spec.keyPath) + ".kind",
                    "audit-c2st has clients reveal samples, which the wire format requires in [0, 1]; tabular data (dataset.shape \(shape)) need not be: use sketch-mmd or root-audit")
            }
        }
    }
}
