// FedArenaModelsTests
