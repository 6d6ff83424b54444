// FedArenaReportsTests
