// Original file: proto/cluster.proto


export interface Action {
  'group'?: (number);
  'host'?: (boolean);
  'drop'?: (boolean);
  'addLearner'?: (string);
  'addVoter'?: (string);
  'removeNode'?: (string);
  'transferLeader'?: (string);
  'kind'?: "host"|"drop"|"addLearner"|"addVoter"|"removeNode"|"transferLeader";
}

export interface Action__Output {
  'group': (number);
  'host'?: (boolean);
  'drop'?: (boolean);
  'addLearner'?: (string);
  'addVoter'?: (string);
  'removeNode'?: (string);
  'transferLeader'?: (string);
  'kind'?: "host"|"drop"|"addLearner"|"addVoter"|"removeNode"|"transferLeader";
}
