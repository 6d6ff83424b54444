// FedArenaAttacksTests: tests arrive with the attacks branch.
