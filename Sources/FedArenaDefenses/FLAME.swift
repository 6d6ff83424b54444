import FedArenaCore
import FedArenaNumerics

/// FLAME: cluster the updates by cosine distance and keep the majority cluster, clip the
/// survivors to the median update norm, average, and add Gaussian noise scaled to that norm.
///
/// Nguyen et al. 2022, "FLAME: Taming Backdoors in Federated Learning", USENIX Security.
/// 1. Clustering. The paper runs HDBSCAN with `min_cluster_size = n/2 + 1` on pairwise cosine
///    distances. With that size only one cluster can exist, so this implementation uses a
///    faithful simplification of HDBSCAN with `min_samples = 1` (where mutual reachability is
///    the plain distance and the hierarchy is single linkage): build the minimum spanning tree
///    of the cosine distances, add its edges in increasing order, and among the levels at
///    which some component holds at least `n/2 + 1` updates keep the component of the level
///    that lives longest (largest gap to the next merge: the most stable, "excess of mass"
///    majority cluster). When no gap is positive (all distances equal) every update is kept.
///    The paper clusters local models; updates are used here (the same cosine geometry up to
///    the shared global model).
/// 2. Clipping: `S = median_i ‖Δ_i‖` over all updates, `Δ_i ← Δ_i · min(1, S/‖Δ_i‖)`.
/// 3. Aggregation: the plain mean of the clipped survivors.
/// 4. Noise: `N(0, (λ S)²)` per coordinate from the round's generator (`λ = 0.001`, the
///    paper's value for image classification).
///
/// YAML: `{kind: flame, lambda: 0.001}`. Weights: `1/|cluster|` for admitted clients, 0 for
/// the rest. Cosine distances come from ``PairwiseDistances`` (accurate when every update
/// shares a large component, where `1 − a·b/(‖a‖‖b‖)` in float32 is 0 for every pair).
///
/// Trust weights: 0 excludes the update; the clustering and the median norm ignore weights in
/// (0, 1), and the mean of the admitted, clipped updates is weighted by them
/// (`Σ w_i c_i Δ_i / Σ w_i` over the cluster).
public struct FLAME: Aggregator {
    /// The noise level `λ >= 0`.
    public var lambda: Double

    /// Creates the rule.
    /// - Parameter lambda: the noise level, `>= 0` (0 disables the noise).
    /// - Throws: `.invalidConfiguration` when `lambda < 0`.
    public init(lambda: Double = 0.001) throws(AggregationError) {
        guard lambda.isFinite, lambda >= 0 else { throw AggregationError(.invalidConfiguration, "flame needs lambda >= 0, got \(lambda)") }
        self.lambda = lambda
    }

    /// `flame`.
    public var name: String { "flame" }

    /// Clusters, clips, averages and adds noise.
    /// - Throws: `.tooFewUpdates`, `.dimensionMismatch`, `.nonFinite`.
    public func aggregate(
        _ updates: UpdateMatrix, context: RoundContext, using rng: inout some RandomNumberGenerator
    ) throws(AggregationError) -> AggregationResult {
        let batch = try UpdateBatch(updates, rule: name)
        let n = batch.count
        let gram = try batch.distances(rule: name, products: .cosines)
        let admitted = Self.majorityCluster(gram)
        let norms = (0..<n).map { gram.squaredNorm($0).squareRoot() }
        let medianNorm = Selection.median(norms) ?? 0
        let trust = batch.trust
        let admittedTrust = admitted.reduce(0) { $0 + trust[$1] }
        var weights = [Double](repeating: 0, count: n)
        var coefficients = [Float](repeating: 0, count: n)
        for i in admitted {
            weights[i] = trust[i] / admittedTrust
            let clip = norms[i] > medianNorm && norms[i] > 0 ? medianNorm / norms[i] : 1
            coefficients[i] = Float(clip * weights[i])
        }
        var mean = batch.withRows { Statistics.linearCombination($0, coefficients: coefficients) }
        try batch.requireFiniteResult(mean, rule: name)
        let sigma = Float(lambda * medianNorm)
        if sigma > 0 {
            let noise = rng.standardNormals(batch.dimension)
            for j in mean.indices { mean[j] += sigma * noise[j] }
        }
        let dropped = n - admitted.count
        let note = dropped > 0 ? "dropped \(dropped) of \(n) updates outside the majority cluster" : nil
        return AggregationResult(aggregate: ParameterVector(mean), weights: batch.weights(weights), note: note)
    }

    /// The admitted rows (ascending): the most stable single-linkage component holding at
    /// least `n/2 + 1` rows, on cosine distances (see the type's description).
    static func majorityCluster(_ gram: PairwiseDistances) -> [Int] {
        let n = gram.count
        let minimumSize = n / 2 + 1
        guard n > 2 else { return Array(0..<n) }
        // Prim's minimum spanning tree on 1 − cos.
        var inTree = [Bool](repeating: false, count: n)
        var best = [Double](repeating: .infinity, count: n)
        var parent = [Int](repeating: -1, count: n)
        var edges = [(weight: Double, a: Int, b: Int)]()
        best[0] = 0
        for _ in 0..<n {
            var next = -1
            for i in 0..<n where !inTree[i] && (next < 0 || best[i] < best[next]) { next = i }
            inTree[next] = true
            if parent[next] >= 0 { edges.append((best[next], min(parent[next], next), max(parent[next], next))) }
            for j in 0..<n where !inTree[j] {
                let distance = gram.cosineDistance(next, j)
                if distance < best[j] {
                    best[j] = distance
                    parent[j] = next
                }
            }
        }
        edges.sort { ($0.weight, $0.a, $0.b) < ($1.weight, $1.a, $1.b) }
        // Kruskal over the tree edges; remember the level with the longest-lived majority.
        var root = Array(0..<n)
        var size = [Int](repeating: 1, count: n)
        func find(_ x: Int) -> Int {
            var x = x
            while root[x] != x {
                root[x] = root[root[x]]
                x = root[x]
            }
            return x
        }
        var bestGap = 0.0
        var bestLevel = -1
        var largest = 1
        for t in 0..<edges.count {
            let (ra, rb) = (find(edges[t].a), find(edges[t].b))
            if ra != rb {
                let (big, small) = size[ra] >= size[rb] ? (ra, rb) : (rb, ra)
                root[small] = big
                size[big] += size[small]
                largest = max(largest, size[big])
            }
            guard t + 1 < edges.count else { break }
            let gap = edges[t + 1].weight - edges[t].weight
            // Ties between gaps go to the later level, which keeps more updates.
            if largest >= minimumSize && gap >= bestGap && gap > 0 {
                bestGap = gap
                bestLevel = t
            }
        }
        guard bestLevel >= 0 else { return Array(0..<n) }
        // Rebuild the components at the chosen level.
        root = Array(0..<n)
        size = [Int](repeating: 1, count: n)
        for t in 0...bestLevel {
            let (ra, rb) = (find(edges[t].a), find(edges[t].b))
            if ra != rb {
                let (big, small) = size[ra] >= size[rb] ? (ra, rb) : (rb, ra)
                root[small] = big
                size[big] += size[small]
            }
        }
        let majority = (0..<n).max { size[find($0)] < size[find($1)] }!
        let label = find(majority)
        return (0..<n).filter { find($0) == label }
    }
}
