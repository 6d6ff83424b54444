import Crypto
import FedArenaCore
import FedArenaReports
import FedArenaRuntime
import Foundation

/// One cell of a sweep: a resolved, validated scenario and where its run folder goes.
public struct SweepCell: Sendable, Equatable {
    /// Why a cell is in the plan.
    public enum Role: String, Sendable, Equatable {
        /// A combination of the axes.
        case cell
        /// The attack-off run of a cell's scenario that no axis combination provides; run once
        /// and shared by every attacked cell with the same scenario otherwise.
        case baseline
    }

    /// The position in the plan (`--cell I`): axis combinations first, in product order, then
    /// the extra baselines.
    public var index: Int
    /// The run folder's name inside the sweep folder, made of the axis labels.
    public var name: String
    /// Why the cell is in the plan.
    public var role: Role
    /// The label of each axis, in axis order (baselines: the non-attack axes only).
    public var labels: [SweepLabel]
    /// The validated scenario.
    public var config: ScenarioConfig
    /// The scenario with every default filled in, as `scenario.yaml` records it.
    public var yaml: String
    /// The SHA-256 (hex) of the resolved scenario without its `name`: the cell's identity.
    /// Editing an axis changes the hash of exactly the cells whose scenario it changes.
    public var hash: String
    /// The index of the cell with the same scenario and the attack off, or `nil` when this
    /// cell has no attack.
    public var baseline: Int?
    /// The value of the `seed` key.
    public var seed: UInt64 { config.seed }
}

/// An axis label of a cell.
public struct SweepLabel: Sendable, Equatable, Hashable {
    /// The axis key path.
    public var axis: String
    /// The value's label.
    public var label: String
}

/// A sweep expanded into cells, every one validated.
public struct SweepPlan: Sendable {
    /// The sweep file.
    public var file: SweepFile
    /// The cells: axis combinations, then extra attack-off baselines.
    public var cells: [SweepCell]

    /// The axis combinations (cells that are not extra baselines).
    public var axisCells: [SweepCell] { cells.filter { $0.role == .cell } }

    /// Expands the product of the axes (zip groups vary together, excluded combinations are
    /// left out), validates every cell as a scenario, and adds one attack-off baseline per
    /// distinct attacked scenario that no combination already provides.
    /// - Parameter file: the sweep.
    /// - Returns: the plan.
    /// - Throws: ``SweepError`` `.invalidCell` listing every cell that does not validate, each
    ///   naming the sweep file, the cell and the axis responsible; `.invalidSweep` when the
    ///   exclude rules leave no cell.
    public static func expand(_ file: SweepFile) throws(SweepError) -> SweepPlan {
        let axes = file.axes
        let shortNames = Self.shortNames(axes)
        // Dimensions of the product: each zip group is one, every other axis is one, ordered
        // by the first axis of each in file order; the last dimension varies fastest.
        var dimensions = [[Int]]()
        var placed = Set<Int>()
        for index in axes.indices where !placed.contains(index) {
            if let group = file.zipGroups.first(where: { $0.contains(axes[index].keyPath) }) {
                let members = group.compactMap { member in axes.firstIndex { $0.keyPath == member } }.sorted()
                dimensions.append(members)
                placed.formUnion(members)
            } else {
                dimensions.append([index])
                placed.insert(index)
            }
        }
        let radices = dimensions.map { axes[$0[0]].values.count }
        let total = radices.reduce(1, *)

        var cells = [SweepCell]()
        var problems = [String]()
        var combination = [Int](repeating: 0, count: dimensions.count)
        var position = 0
        for _ in 0..<total {
            var choice = [Int](repeating: 0, count: axes.count)
            for (dimension, members) in dimensions.enumerated() {
                for member in members { choice[member] = combination[dimension] }
            }
            let labels = axes.indices.map { SweepLabel(axis: axes[$0].keyPath, label: axes[$0].values[choice[$0]].label) }
            let byAxis = Dictionary(uniqueKeysWithValues: labels.map { ($0.axis, $0.label) })
            if !file.excludes.contains(where: { $0.matches(byAxis) }) {
                let name = axes.indices.map { "\(shortNames[$0])-\(labels[$0].label)" }.joined(separator: "__")
                var tree = file.base.tree
                var failure: String?
                for (axisIndex, axis) in axes.enumerated() where failure == nil {
                    if !tree.set(axis.values[choice[axisIndex]].value, at: axis.components) {
                        failure = "axis \(axis.keyPath) = \(labels[axisIndex].label): a parent of \(axis.keyPath) is not a mapping in this cell's scenario"
                    }
                }
                let index = position
                position += 1
                if let failure {
                    problems.append("\(file.source): cell \(index) (\(name)): \(failure)")
                } else {
                    do throws(ConfigError) {
                        cells.append(try Self.cell(index: index, name: name, role: .cell, labels: labels, tree: tree, sweepName: file.name))
                    } catch {
                        problems.append("\(file.source): cell \(index) (\(name)): \(Self.blame(error, axes: axes, labels: labels))")
                    }
                }
            }
            // Next combination, last dimension fastest.
            var dimension = dimensions.count - 1
            while dimension >= 0 {
                combination[dimension] += 1
                if combination[dimension] < radices[dimension] { break }
                combination[dimension] = 0
                dimension -= 1
            }
        }
        if !problems.isEmpty {
            let shown = problems.prefix(20).joined(separator: "\n")
            let more = problems.count > 20 ? "\n... and \(problems.count - 20) more invalid cells" : ""
            throw SweepError(.invalidCell, "\(problems.count) of \(position) cells do not validate; nothing was run:\n\(shown)\(more)")
        }
        if cells.isEmpty {
            throw SweepError(.invalidSweep, "\(file.source): exclude: the rules leave no cell to run")
        }

        // Attack-off baselines: the same scenario without its attack, shared by hash.
        var byHash = [String: Int]()
        for cell in cells where byHash[cell.hash] == nil { byHash[cell.hash] = cell.index }
        let combinations = cells.count
        for slot in 0..<combinations where cells[slot].config.attack != nil {
            let cell = cells[slot]
            guard case .object(var object) = ScenarioSchema.resolvedTree(cell.config) else { continue }
            object["attack"] = nil
            let kept = cell.labels.filter { label in !axes.contains { $0.keyPath == label.axis && $0.isAttack } }
            var name = (["baseline"] + kept.map { label in
                "\(shortNames[axes.firstIndex { $0.keyPath == label.axis }!])-\(label.label)"
            }).joined(separator: "__")
            let candidate: SweepCell
            do throws(ConfigError) {
                candidate = try Self.cell(index: cells.count, name: name, role: .baseline, labels: kept, tree: .object(object), sweepName: file.name)
            } catch {
                throw SweepError(
                    .invalidCell,
                    "\(file.source): cell \(slot) (\(cell.name)): its attack-off baseline does not validate: \(error)", cause: error)
            }
            if let existing = byHash[candidate.hash] {
                cells[slot].baseline = existing
                continue
            }
            if cells.contains(where: { $0.name == name }) { name += "__\(cells.count)" }
            var added = candidate
            added.name = name
            byHash[added.hash] = added.index
            cells.append(added)
            cells[slot].baseline = added.index
        }
        return SweepPlan(file: file, cells: cells)
    }

    /// Builds one validated cell.
    private static func cell(
        index: Int, name: String, role: SweepCell.Role, labels: [SweepLabel], tree: ConfigValue, sweepName: String
    ) throws(ConfigError) -> SweepCell {
        var tree = tree
        tree.set(.string("\(sweepName)-\(name)"), at: ["name"])
        let config = try ScenarioSchema.decode(tree: tree)
        try Preflight.check(config).get()
        let resolved = ScenarioSchema.resolvedTree(config)
        return SweepCell(
            index: index, name: name, role: role, labels: labels, config: config, yaml: ScenarioWriter.yaml(resolved),
            hash: identity(of: resolved), baseline: nil)
    }

    /// The SHA-256 (hex) of a resolved scenario's canonical JSON (sorted keys), without `name`.
    public static func identity(of resolved: ConfigValue) -> String {
        var tree = resolved
        if case .object(var object) = tree {
            object["name"] = nil
            tree = .object(object)
        }
        return SHA256.hash(data: Data(JSONText.render(tree).utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// `error` with the axis whose value it concerns, when one does.
    private static func blame(_ error: ConfigError, axes: [SweepAxis], labels: [SweepLabel]) -> String {
        let path = error.keyPath
        let culprits = axes.indices.filter { index in
            let axis = axes[index].keyPath
            return path.isEmpty ? false : path == axis || path.hasPrefix(axis + ".") || axis.hasPrefix(path + ".")
        }
        var bare = error
        bare.file = nil
        if culprits.isEmpty {
            let context = labels.map { "\($0.axis)=\($0.label)" }.joined(separator: ", ")
            return "\(bare) (from the base scenario, with \(context))"
        }
        return culprits.map { "axis \(axes[$0].keyPath) = \(labels[$0].label)" }.joined(separator: ", ") + ": \(bare)"
    }

    /// Each axis's name in cell folder names: its last key path component, or the whole path
    /// when two axes share a last component.
    static func shortNames(_ axes: [SweepAxis]) -> [String] {
        let lasts = axes.map { $0.components.last ?? $0.keyPath }
        return axes.indices.map { index in
            lasts.filter { $0 == lasts[index] }.count > 1 ? axes[index].keyPath : lasts[index]
        }
    }
}
