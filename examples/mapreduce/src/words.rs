//! Counting words: what every node shares, and the single-process count to check against.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// Word counts, ordered by word.
pub type Counts = BTreeMap<String, u64>;

/// The words of `text`: runs of alphanumeric characters, lower-cased (`Don't` is `don`, `t`).
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
}

/// Adds the words of `text` to `counts`.
pub fn add_words(text: &str, counts: &mut Counts) {
    for word in words(text) {
        *counts.entry(word).or_default() += 1;
    }
}

/// The reducer that owns `word`, out of `num_partitions` (which must not be 0).
///
/// A 64-bit FNV-1a hash: unlike `std`'s `RandomState`, it is the same in every process, which is
/// what lets mappers in different processes agree on where a word goes.
pub fn partition(word: &str, num_partitions: usize) -> usize {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let hash = word
        .bytes()
        .fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    (hash % num_partitions as u64) as usize
}

/// The regular files directly in `dir`, sorted by name.
pub fn list_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let cannot_read = || format!("cannot read input directory `{}`", dir.display());
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(cannot_read)? {
        let entry = entry.with_context(cannot_read)?;
        if entry.file_type().with_context(cannot_read)?.is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// Reads the text file at `path`.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))
}

/// The word count of every file in `dir`, in this process: what the program must agree with.
pub fn count_dir(dir: &Path) -> anyhow::Result<Counts> {
    let mut counts = Counts::new();
    for file in list_files(dir)? {
        add_words(&read_text(&file)?, &mut counts);
    }
    Ok(counts)
}

/// `COUNT WORD` lines, most frequent first (ties by word).
pub fn format_counts(counts: &Counts) -> String {
    let mut sorted: Vec<(&String, &u64)> = counts.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    sorted
        .into_iter()
        .map(|(word, count)| format!("{count} {word}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_alphanumeric_runs() {
        let words: Vec<String> =
            words("It was the best of times, it was—the WORST; 1859.").collect();
        assert_eq!(
            words,
            ["it", "was", "the", "best", "of", "times", "it", "was", "the", "worst", "1859"]
        );
    }

    #[test]
    fn partitions_are_in_range_and_stable() {
        for n in 1..8 {
            for word in ["a", "the", "whale", ""] {
                assert!(partition(word, n) < n);
                assert_eq!(partition(word, n), partition(word, n));
            }
        }
        // FNV-1a's published test vector: the empty string hashes to the offset basis.
        assert_eq!(
            partition("", 1 << 20),
            (0xcbf2_9ce4_8422_2325_u64 % (1 << 20)) as usize
        );
        let spread: std::collections::BTreeSet<usize> = ["it", "was", "the", "best", "of", "times"]
            .iter()
            .map(|w| partition(w, 3))
            .collect();
        assert!(spread.len() > 1, "words spread over partitions");
    }

    #[test]
    fn counts_are_formatted_most_frequent_first() {
        let mut counts = Counts::new();
        add_words("b a b c c", &mut counts);
        assert_eq!(format_counts(&counts), "2 b\n2 c\n1 a\n");
    }
}
