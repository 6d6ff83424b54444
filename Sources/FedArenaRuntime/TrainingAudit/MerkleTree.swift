import Crypto
import FedArenaCore

/// A binary SHA-256 Merkle tree over a list of leaf hashes (Merkle 1987), with inclusion proofs.
///
/// Inner nodes are `SHA-256(0x01 ‖ left ‖ right)`; leaf hashes are domain-separated by their
/// producer (``StepHashing/leafHash(step:leaf:)`` starts with `0x00`), so a leaf can never pass
/// for an inner node. A level with an odd number of nodes promotes its last node unchanged.
/// A proof lists the sibling hashes from the leaf up; the verifier derives each sibling's side
/// from the leaf's index and the leaf count, so a proof cannot choose its own path.
public struct MerkleTree: Sendable {
    /// The levels, leaves first, the root's level last.
    private let levels: [[[UInt8]]]

    /// Builds the tree.
    /// - Parameter leaves: the leaf hashes (32 bytes each), at least one.
    public init(leaves: [[UInt8]]) {
        precondition(!leaves.isEmpty, "a Merkle tree needs at least one leaf")
        var levels = [leaves]
        while levels[levels.count - 1].count > 1 {
            let level = levels[levels.count - 1]
            var next = [[UInt8]]()
            next.reserveCapacity((level.count + 1) / 2)
            var index = 0
            while index < level.count {
                next.append(index + 1 < level.count ? Self.node(level[index], level[index + 1]) : level[index])
                index += 2
            }
            levels.append(next)
        }
        self.levels = levels
    }

    /// The root hash.
    public var root: [UInt8] { levels[levels.count - 1][0] }

    /// The number of leaves.
    public var leafCount: Int { levels[0].count }

    /// The inclusion proof of leaf `index` (0-based): its siblings from the bottom up.
    /// - Parameter index: the leaf, in `0..<leafCount`.
    /// - Returns: the sibling hashes.
    public func proof(of index: Int) -> [[UInt8]] {
        precondition(index >= 0 && index < leafCount, "leaf \(index) is outside 0..<\(leafCount)")
        var proof = [[UInt8]]()
        var position = index
        for level in levels.dropLast() {
            if position % 2 == 1 {
                proof.append(level[position - 1])
            } else if position + 1 < level.count {
                proof.append(level[position + 1])
            }
            position /= 2
        }
        return proof
    }

    /// Whether `proof` leads from `leaf` at `index` of `leafCount` leaves to `root`.
    /// - Parameters:
    ///   - leaf: the leaf hash.
    ///   - index: the leaf's 0-based index.
    ///   - leafCount: the tree's leaf count.
    ///   - proof: the sibling hashes, bottom up.
    ///   - root: the committed root.
    /// - Returns: `true` only when every sibling is used, each is 32 bytes, and the result is `root`.
    public static func verify(leaf: [UInt8], index: Int, leafCount: Int, proof: [[UInt8]], root: [UInt8]) -> Bool {
        guard leafCount >= 1, index >= 0, index < leafCount, leaf.count == 32, root.count == 32 else { return false }
        var current = leaf
        var position = index
        var count = leafCount
        var used = 0
        while count > 1 {
            if position % 2 == 1 || position + 1 < count {
                guard used < proof.count, proof[used].count == 32 else { return false }
                current = position % 2 == 1 ? node(proof[used], current) : node(current, proof[used])
                used += 1
            }
            position /= 2
            count = (count + 1) / 2
        }
        return used == proof.count && current == root
    }

    /// `SHA-256(0x01 ‖ left ‖ right)`.
    static func node(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [UInt8(1)])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// The most levels (and so proof hashes) a tree of `leafCount` leaves has.
    public static func depth(leafCount: Int) -> Int {
        var depth = 0
        var count = max(1, leafCount)
        while count > 1 {
            count = (count + 1) / 2
            depth += 1
        }
        return depth
    }
}
