// A plugin that loads but registers no driver at all.
export const nothing = true;
