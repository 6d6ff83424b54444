// FedArenaAttacksTests
