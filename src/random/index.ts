/** Deterministic random numbers shared by data order, initialisation, dropout seeds and synthetic data. */
export * from "./seededRng";
