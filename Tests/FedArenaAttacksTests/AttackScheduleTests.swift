import FedArenaAttacks
import FedArenaCore
import Testing

@Suite struct AttackScheduleTests {
    func read(_ options: [String: ConfigValue]) throws(ConfigError) -> AttackSchedule {
        let reader = try ConfigReader(.object(options), path: "attack")
        let schedule = try AttackSchedule.read(from: reader)
        try reader.finish()
        return schedule
    }

    @Test func periodicAndSingleShotRounds() throws {
        #expect(AttackSchedule.always.activeRounds(upTo: 4) == [1, 2, 3, 4])
        #expect(AttackSchedule(start: 3, every: 2, end: 9).activeRounds(upTo: 12) == [3, 5, 7, 9])
        #expect(AttackSchedule(start: 2, every: 3).activeRounds(upTo: 10) == [2, 5, 8])
        #expect(AttackSchedule.singleShot(at: 4).activeRounds(upTo: 10) == [4])
        #expect(!AttackSchedule.singleShot(at: 4).isActive(round: 0))
    }

    @Test func readsTheYAMLKeys() throws {
        #expect(try read([:]) == .always)
        #expect(try read(["start": .int(3), "every": .int(2), "end": .int(9)]) == AttackSchedule(start: 3, every: 2, end: 9))
        #expect(try read(["at": .int(5)]) == .singleShot(at: 5))
    }

    @Test func rejectsImpossibleSchedules() {
        #expect(configError { _ = try read(["at": .int(5), "every": .int(2)]) }?.keyPath == "attack.every")
        #expect(configError { _ = try read(["start": .int(5), "end": .int(2)]) }?.keyPath == "attack.end")
        #expect(configError { _ = try read(["every": .int(0)]) }?.keyPath == "attack.every")
        #expect(configError { _ = try read(["start": .int(0)]) }?.keyPath == "attack.start")
    }
}
