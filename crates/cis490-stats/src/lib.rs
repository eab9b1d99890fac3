//! Evaluation statistics for cis490: confusion matrix and F1 with
//! scikit-learn's conventions, and (paired) percentile bootstrap intervals
//! whose resamples are reproducible bit for bit by the TypeScript twin
//! (src/reference/stats.ts). No Node knowledge; see docs/statistics.md.

pub mod auc;
pub mod bootstrap;
pub mod metrics;
pub mod rng;

pub use auc::{auc_bootstrap, AucOptions, AucResult, Ranked};
pub use bootstrap::{bootstrap_f1, check_arguments, paired_bootstrap, percentile_ci, quantile_sorted, BootstrapOptions, BootstrapResult, PairedResult, Unit};
pub use metrics::{class_scores, confusion_matrix, label_union, macro_f1, macro_f1_labels, ClassScore, ConfusionMatrix};
