import Crypto
import FedArenaCore
import FedArenaRuntime
import Testing

/// The Merkle tree against a Python reference, and its proofs for every leaf of small trees.
@Suite struct MerkleTreeTests {
    static func leaf(_ byte: UInt8) -> [UInt8] { Array(SHA256.hash(data: [byte])) }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }

    /// Roots from this script (hashlib; inner node = sha256(b'\x01' + left + right), the last
    /// node of an odd level promoted unchanged):
    /// ```python
    /// H = lambda b: hashlib.sha256(b).digest()
    /// def root(l):
    ///     while len(l) > 1:
    ///         l = [H(b'\x01' + l[i] + l[i+1]) if i + 1 < len(l) else l[i] for i in range(0, len(l), 2)]
    ///     return l[0]
    /// root([H(bytes([i])) for i in range(n)]).hex()
    /// ```
    @Test(arguments: [
        (1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        (2, "c71a16f21f917ed84ea2caa90b0904c9179a4c9c2369a9b4ec57e11a3f25a7a2"),
        (3, "d78663a8f1a2d99ee97fe38a605be2f54e2872c3a63a13077d617e4a940725bd"),
        (5, "550347fe72bcb7c23a0576eb793f410a6192c5d678b483eb1adfd880720b55ea"),
    ])
    func rootMatchesThePythonReference(count: Int, expected: String) {
        let tree = MerkleTree(leaves: (0..<count).map { Self.leaf(UInt8($0)) })
        #expect(Self.hex(tree.root) == expected)
    }

    @Test(arguments: 1...9)
    func everyLeafsProofVerifiesAndOnlyAtItsOwnIndex(count: Int) {
        let leaves = (0..<count).map { Self.leaf(UInt8($0)) }
        let tree = MerkleTree(leaves: leaves)
        for index in 0..<count {
            let proof = tree.proof(of: index)
            #expect(proof.count <= MerkleTree.depth(leafCount: count))
            #expect(MerkleTree.verify(leaf: leaves[index], index: index, leafCount: count, proof: proof, root: tree.root))
            if count > 1 {
                let other = (index + 1) % count
                #expect(!MerkleTree.verify(leaf: leaves[index], index: other, leafCount: count, proof: proof, root: tree.root))
                #expect(!MerkleTree.verify(leaf: leaves[other], index: index, leafCount: count, proof: proof, root: tree.root))
            }
        }
    }

    @Test func aTamperedShortenedOrLengthenedProofFails() {
        let leaves = (0..<6).map { Self.leaf(UInt8($0)) }
        let tree = MerkleTree(leaves: leaves)
        let proof = tree.proof(of: 2)
        var flipped = proof
        flipped[1][0] ^= 1
        #expect(!MerkleTree.verify(leaf: leaves[2], index: 2, leafCount: 6, proof: flipped, root: tree.root))
        #expect(!MerkleTree.verify(leaf: leaves[2], index: 2, leafCount: 6, proof: Array(proof.dropLast()), root: tree.root))
        #expect(!MerkleTree.verify(leaf: leaves[2], index: 2, leafCount: 6, proof: proof + [leaves[0]], root: tree.root))
        // The leaf count shapes the path: in a tree of 5 leaves index 2 has no sibling at the third level.
        #expect(!MerkleTree.verify(leaf: leaves[2], index: 2, leafCount: 3, proof: proof, root: tree.root))
        #expect(!MerkleTree.verify(leaf: leaves[2], index: 6, leafCount: 6, proof: proof, root: tree.root))
    }
}
