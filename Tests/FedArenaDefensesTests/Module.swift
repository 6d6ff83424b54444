// FedArenaDefensesTests
