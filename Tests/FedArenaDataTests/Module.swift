// FedArenaDataTests
