// Model engines: libtorch neural nets and XGBoost trees behind one addon.
export { TorchModel, resolveTorchConfig } from "./torch.js";
export { AutoencoderModel, AE_LATENT } from "./autoencoder.js";
export { trainGbt, predictGbt, gbtModelInfo, saveGbtModel, loadGbtModel } from "./xgboost.js";
export { loadEngines, enginesPath } from "./load.js";
export { connectProcessGroup, parseMasterAddr, ProcessGroup } from "./distributed.js";
export type * from "./types.js";
