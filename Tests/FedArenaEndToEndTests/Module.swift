// FedArenaEndToEndTests
