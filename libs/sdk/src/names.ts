/** Human-friendly run names, like Prefect's "cute-tiger". */
const ADJECTIVES = [
  "amber", "brave", "calm", "clever", "cosmic", "crimson", "daring", "eager", "fancy", "gentle", "glowing", "golden",
  "happy", "hidden", "jolly", "keen", "lively", "lucky", "mellow", "mighty", "nimble", "noble", "olive", "proud",
  "quick", "quiet", "rapid", "rustic", "shiny", "silent", "silver", "smart", "sunny", "swift", "tidy", "vivid", "witty",
];
const ANIMALS = [
  "badger", "beaver", "bison", "cheetah", "cobra", "condor", "coyote", "crane", "dingo", "dolphin", "eagle", "falcon",
  "ferret", "gazelle", "heron", "ibex", "jaguar", "koala", "lemur", "lynx", "marmot", "otter", "owl", "panda", "puffin",
  "quail", "raven", "salmon", "seal", "stork", "tapir", "tiger", "toucan", "walrus", "wombat", "yak", "zebra",
];

export function generateRunName(random: () => number = Math.random): string {
  const pick = (list: string[]) => list[Math.floor(random() * list.length)] as string;
  return `${pick(ADJECTIVES)}-${pick(ANIMALS)}`;
}
