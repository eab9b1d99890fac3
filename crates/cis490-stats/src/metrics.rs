//! Point estimates with scikit-learn's conventions: the classes are the
//! sorted union of the labels present in truth and prediction; per class
//! precision = tp/(tp+fp), recall = tp/(tp+fn), each 0 when its
//! denominator is 0; F1 = 2tp/(2tp+fp+fn) (= 2PR/(P+R)), 0 when tp = 0.
//! Macro F1 is the unweighted mean over those classes. With a fixed label
//! list (`f1_score(labels=...)`), the mean is over exactly the listed
//! classes: one absent from truth and prediction scores 0, and a label
//! outside the list is not averaged (its windows still count as false
//! positives / negatives of the listed classes).

/// Sorted, de-duplicated union of the labels in both slices.
pub fn label_union(y_true: &[i32], y_pred: &[i32]) -> Vec<i32> {
    let mut labels: Vec<i32> = y_true.iter().chain(y_pred).copied().collect();
    labels.sort_unstable();
    labels.dedup();
    labels
}

/// Counts over `labels` (row = truth, column = prediction), row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    pub labels: Vec<i32>,
    pub counts: Vec<u64>,
}

impl ConfusionMatrix {
    pub fn k(&self) -> usize {
        self.labels.len()
    }
    pub fn get(&self, truth: usize, pred: usize) -> u64 {
        self.counts[truth * self.k() + pred]
    }
}

/// Confusion matrix over the label union. The slices must have equal length.
pub fn confusion_matrix(y_true: &[i32], y_pred: &[i32]) -> ConfusionMatrix {
    assert_eq!(y_true.len(), y_pred.len(), "y_true and y_pred differ in length");
    let labels = label_union(y_true, y_pred);
    let k = labels.len();
    let mut counts = vec![0u64; k * k];
    let at = |l: i32| labels.binary_search(&l).expect("label is in the union");
    for (&t, &p) in y_true.iter().zip(y_pred) {
        counts[at(t) * k + at(p)] += 1;
    }
    ConfusionMatrix { labels, counts }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClassScore {
    pub label: i32,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Number of true instances (sklearn's `support`).
    pub support: u64,
}

/// F1 of one class from its true positives and its truth / prediction
/// totals: 2tp/(2tp+fp+fn) and 2tp+fp+fn = n_true + n_pred. None when the
/// class occurs in neither (sklearn would not list it). Shared by the
/// point estimate and every bootstrap resample so both use one formula,
/// the same one as the TypeScript twin (bit-identical results).
#[inline]
pub fn f1_from_counts(tp: u64, n_true: u64, n_pred: u64) -> Option<f64> {
    let denom = n_true + n_pred;
    if denom == 0 {
        None
    } else {
        Some((2 * tp) as f64 / denom as f64)
    }
}

fn ratio_or_zero(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Per-class scores over the matrix's labels (every label is present, so
/// every F1 is defined).
pub fn class_scores(cm: &ConfusionMatrix) -> Vec<ClassScore> {
    let k = cm.k();
    (0..k)
        .map(|c| {
            let tp = cm.get(c, c);
            let n_true: u64 = (0..k).map(|j| cm.get(c, j)).sum();
            let n_pred: u64 = (0..k).map(|i| cm.get(i, c)).sum();
            ClassScore {
                label: cm.labels[c],
                precision: ratio_or_zero(tp, n_pred),
                recall: ratio_or_zero(tp, n_true),
                f1: f1_from_counts(tp, n_true, n_pred).unwrap_or(0.0),
                support: n_true,
            }
        })
        .collect()
}

/// Mean of the F1 values in label order (a plain left-to-right sum, the
/// order the TypeScript twin uses). NaN for no classes (empty input).
pub fn mean_in_order(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut n) = (0.0f64, 0usize);
    for v in values {
        sum += v;
        n += 1;
    }
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64
    }
}

/// sklearn's `f1_score(y_true, y_pred, average="macro")`.
pub fn macro_f1(y_true: &[i32], y_pred: &[i32]) -> f64 {
    let cm = confusion_matrix(y_true, y_pred);
    mean_in_order(class_scores(&cm).iter().map(|s| s.f1))
}

/// sklearn's `f1_score(y_true, y_pred, labels=labels, average="macro")`
/// (labels sorted and distinct; NaN for an empty list).
pub fn macro_f1_labels(y_true: &[i32], y_pred: &[i32], labels: &[i32]) -> f64 {
    let mut extended = label_union(y_true, y_pred);
    extended.extend_from_slice(labels);
    extended.sort_unstable();
    extended.dedup();
    let k = extended.len();
    let at = |l: i32| extended.binary_search(&l).expect("label is listed");
    let mut counts = vec![0u64; k * k];
    for (&t, &p) in y_true.iter().zip(y_pred) {
        counts[at(t) * k + at(p)] += 1;
    }
    let cm = ConfusionMatrix { labels: extended.clone(), counts };
    let scores = class_scores(&cm);
    mean_in_order(labels.iter().map(|&l| scores[at(l)].f1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_only_in_prediction_counts_as_a_class() {
        // sklearn: f1_score([0,0,1,1], [0,0,1,2], average=None) -> [1, 0.6667, 0]
        let cm = confusion_matrix(&[0, 0, 1, 1], &[0, 0, 1, 2]);
        assert_eq!(cm.labels, vec![0, 1, 2]);
        assert_eq!(cm.counts, vec![2, 0, 0, 0, 1, 1, 0, 0, 0]);
        let s = class_scores(&cm);
        assert_eq!(s[0].f1, 1.0);
        assert!((s[1].f1 - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!((s[2].precision, s[2].recall, s[2].f1, s[2].support), (0.0, 0.0, 0.0, 0));
        assert!((macro_f1(&[0, 0, 1, 1], &[0, 0, 1, 2]) - (1.0 + 2.0 / 3.0) / 3.0).abs() < 1e-15);
    }

    #[test]
    fn label_absent_from_prediction() {
        // Class 2 is never predicted: precision 0 (zero division), recall 0, F1 0.
        let s = class_scores(&confusion_matrix(&[0, 1, 2, 2], &[0, 1, 1, 1]));
        assert_eq!(s[2].precision, 0.0);
        assert_eq!(s[2].f1, 0.0);
        assert_eq!(s[1].precision, 1.0 / 3.0);
        assert_eq!(s[1].f1, 0.5);
    }

    #[test]
    fn fixed_labels_score_absent_classes_zero() {
        // sklearn: f1_score([0,0,1,1], [0,0,1,2], labels=[0,1,3], average="macro") = (1 + 2/3 + 0) / 3
        let got = macro_f1_labels(&[0, 0, 1, 1], &[0, 0, 1, 2], &[0, 1, 3]);
        assert!((got - (1.0 + 2.0 / 3.0) / 3.0).abs() < 1e-15);
        // Label 2 is not listed: not averaged, but class 1 still loses its recall.
        let got = macro_f1_labels(&[0, 0, 1, 1], &[0, 0, 1, 2], &[0, 1]);
        assert!((got - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-15);
        assert_eq!(macro_f1_labels(&[2, 2], &[2, 2], &[0, 2]), 0.5);
    }

    #[test]
    fn single_class_and_empty() {
        assert_eq!(macro_f1(&[3, 3, 3], &[3, 3, 3]), 1.0);
        assert!(macro_f1(&[], &[]).is_nan());
    }
}
