import FedArenaCore
import FedArenaWire
import Testing

/// The training audit on the wire (version 3): the UPDATE's commitment, CHALLENGE and OPENING,
/// their byte layouts and their validation.
struct WireCodecTrainingAuditTests {
    static let root = [UInt8](repeating: 0xAB, count: 32)

    static func opening(step: Int = 2, rows: Int = 2) -> StepOpening {
        StepOpening(
            step: step, weightsBefore: ParameterVector([0.5, -1]),
            batch: LabeledSamples(features: (0..<(rows * 3)).map { Float($0) / 10 }, labels: (0..<rows).map { Int32($0 % 2) }, featureCount: 3, classCount: 2),
            leaf: StepLeaf(batchHash: [UInt8](repeating: 1, count: 32), weightsHash: [UInt8](repeating: 2, count: 32), norm: 0.25),
            proof: [[UInt8](repeating: 3, count: 32)], previousLeaf: StepLeaf(batchHash: [UInt8](repeating: 4, count: 32), weightsHash: [UInt8](repeating: 5, count: 32), norm: 1),
            previousProof: [])
    }

    @Test func theCommitmentTravelsAtTheEndOfTheUpdate() throws {
        var update = WireMessage.Update(round: 1, nonce: 2, client: ClientID(3), sampleCount: 4, trainLoss: 0.5, delta: ParameterVector([1]))
        update.commitment = TrainingCommitment(root: Self.root, stepNorms: [0.5, 2])
        let bytes = WireCodec.encode(.update(update))
        // ... no sketch, no audit samples, flag 1, bytes root (4 + 32), vec norms (4 + 8).
        let expected: [UInt8] = [0, 0, 1] + Frame.le(UInt32(32)) + Self.root + Frame.le(UInt32(2)) + Frame.le(Float(0.5).bitPattern) + Frame.le(Float(2).bitPattern)
        #expect(Array(Frame.payload(of: bytes).suffix(expected.count)) == expected)
        #expect(try WireCodec.decode(bytes) == .update(update))
    }

    @Test func aCommitmentWithAShortRootNegativeNormsOrTooManyStepsIsRefused() {
        var update = WireMessage.Update(round: 1, nonce: 2, client: ClientID(3), sampleCount: 4, trainLoss: 0.5, delta: ParameterVector([1]))
        update.commitment = TrainingCommitment(root: Array(Self.root.prefix(31)), stepNorms: [1])
        #expect(decodeError(WireCodec.encode(.update(update)))?.code == .malformed)
        update.commitment = TrainingCommitment(root: Self.root, stepNorms: [1, -1])
        #expect(decodeError(WireCodec.encode(.update(update)))?.code == .malformed)
        update.commitment = TrainingCommitment(root: Self.root, stepNorms: [])
        #expect(decodeError(WireCodec.encode(.update(update)))?.code == .malformed)
        update.commitment = TrainingCommitment(root: Self.root, stepNorms: [1, 2, 3])
        var limits = DecodeLimits()
        limits.maxCommittedSteps = 2
        #expect(decodeError(WireCodec.encode(.update(update)), limits: limits)?.code == .oversized)
    }

    @Test func aChallengeIsItsStepsInOrderAndMustAskForSomething() throws {
        let challenge = WireMessage.challenge(.init(round: 4, nonce: 5, client: ClientID(6), steps: [1, 7, 9]))
        let bytes = WireCodec.encode(challenge)
        #expect(bytes[6] == 7)
        let payload = Frame.le(Int64(4)) + Frame.le(UInt64(5)) + Frame.le(Int64(6)) + Frame.le(UInt32(3)) + Frame.le(Int64(1)) + Frame.le(Int64(7)) + Frame.le(Int64(9))
        #expect(Frame.payload(of: bytes) == payload)
        #expect(try WireCodec.decode(bytes) == challenge)
        for steps in [[Int](), [3, 3], [5, 2], [0, 1]] {
            #expect(decodeError(WireCodec.encode(.challenge(.init(round: 4, nonce: 5, client: ClientID(6), steps: steps))))?.code == .malformed, "\(steps)")
        }
        var limits = DecodeLimits()
        limits.maxOpenedSteps = 2
        #expect(decodeError(bytes, limits: limits)?.code == .oversized)
    }

    @Test func anOpeningRoundTripsAndIsValidatedLikeEveryMessage() throws {
        let opening = WireMessage.opening(.init(round: 4, nonce: 5, client: ClientID(6), openings: [Self.opening(step: 2), Self.opening(step: 5)]))
        let bytes = WireCodec.encode(opening)
        #expect(bytes[6] == 8)
        #expect(try WireCodec.decode(bytes, limits: DecodeLimits(expectedParameterCount: 2)) == opening)
        // Weights of the wrong dimension, steps out of order, a label outside its classes,
        // features that do not fill the rows, a batch over the row limit: refused.
        #expect(decodeError(bytes, limits: DecodeLimits(expectedParameterCount: 3))?.code == .dimensionMismatch)
        let backwards = WireMessage.opening(.init(round: 4, nonce: 5, client: ClientID(6), openings: [Self.opening(step: 5), Self.opening(step: 2)]))
        #expect(decodeError(WireCodec.encode(backwards))?.code == .malformed)
        var badLabel = Self.opening()
        badLabel.batch.labels[0] = 2
        #expect(decodeError(WireCodec.encode(.opening(.init(round: 4, nonce: 5, client: ClientID(6), openings: [badLabel]))))?.code == .malformed)
        var badHash = Self.opening()
        badHash.leaf.batchHash.removeLast()
        #expect(decodeError(WireCodec.encode(.opening(.init(round: 4, nonce: 5, client: ClientID(6), openings: [badHash]))))?.code == .malformed)
        var rows = DecodeLimits()
        rows.maxBatchRows = 1
        #expect(decodeError(WireCodec.encode(.opening(.init(round: 4, nonce: 5, client: ClientID(6), openings: [Self.opening(rows: 2)]))), limits: rows)?.code == .oversized)
        var nan = Self.opening()
        nan.batch.features[1] = .nan
        #expect(decodeError(WireCodec.encode(.opening(.init(round: 4, nonce: 5, client: ClientID(6), openings: [nan]))))?.code == .nonFinite)
    }

    @Test func coordinatorLimitsAdmitTheLargestOpeningOfTheRun() throws {
        // 3 steps committed at most (Merkle depth 2), 2 opened, batches of 2 rows of 3 features, d = 2.
        let limits = DecodeLimits.coordinator(parameterCount: 2, clients: 4, trainingAudit: (maxSteps: 3, openedSteps: 2, batchSize: 2, featureCount: 3))
        var first = Self.opening(step: 2)
        first.proof = [Self.root, Self.root]
        first.previousProof = [Self.root, Self.root]
        var second = first
        second.step = 3
        let bytes = WireCodec.encode(.opening(.init(round: 1, nonce: 1, client: ClientID(0), openings: [first, second])))
        #expect(bytes.count <= limits.maxMessageBytes)
        #expect(try WireCodec.decode(bytes, limits: limits) == .opening(.init(round: 1, nonce: 1, client: ClientID(0), openings: [first, second])))
        let three = WireCodec.encode(.opening(.init(round: 1, nonce: 1, client: ClientID(0), openings: [Self.opening(step: 1), first, second])))
        #expect(decodeError(three, limits: limits)?.code == .oversized)
    }
}
