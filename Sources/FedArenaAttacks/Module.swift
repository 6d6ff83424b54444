// FedArenaAttacks: module placeholder until its first type lands.
