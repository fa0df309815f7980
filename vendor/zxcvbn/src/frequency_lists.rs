use std::collections::HashMap;

// agentgate: upstream keeps its six ranked lists as string constants (~790 KB
// of text, ~387 KB of the gzipped wasm module). They are here as one LZMA
// stream of the lists in upstream's order, one list a line, words separated
// by commas, ranked by position: `data/*.txt` are the lists,
// `data/frequency_lists.lzma` is what the crate embeds, made by
// `data/compress.sh` (xz `--format=lzma`, ~35 KB smaller than gzip would
// make the text). The stream is decoded once, on first use.
static LISTS_LZMA: &[u8] = include_bytes!("../data/frequency_lists.lzma");

/// The six lists, in the order of [`LIST_NAMES`].
fn lists() -> Vec<&'static str> {
    let mut text = Vec::with_capacity(800 * 1024);
    lzma_rs::lzma_decompress(&mut &LISTS_LZMA[..], &mut text).expect("the embedded lists decode");
    let text: &'static str = Box::leak(
        String::from_utf8(text)
            .expect("the embedded lists are UTF-8")
            .into_boxed_str(),
    );
    text.split('\n').collect()
}

/// The lists in the stream, in order (upstream's constant names).
#[doc(hidden)]
pub const LIST_NAMES: [&str; 6] = [
    "PASSWORDS",
    "ENGLISH_WIKI",
    "FEMALE_NAMES",
    "SURNAMES",
    "US_TV_AND_FILM",
    "MALE_NAMES",
];

#[derive(Copy, Clone, Debug, Eq, PartialEq, Hash, Default)]
#[cfg_attr(feature = "ser", derive(serde::Deserialize, serde::Serialize))]
pub enum DictionaryType {
    #[default]
    Passwords,
    English,
    FemaleNames,
    MaleNames,
    Surnames,
    UsTvAndFilm,
    UserInputs,
}

lazy_static! {
    pub(crate) static ref RANKED_DICTIONARIES: HashMap<DictionaryType, HashMap<&'static str, usize>> = {
        let lists = lists();
        assert_eq!(lists.len(), LIST_NAMES.len(), "the embedded lists are six");
        let [passwords, english, female_names, surnames, us_tv_and_film, male_names] =
            [0, 1, 2, 3, 4, 5].map(|i| lists[i]);
        let mut dicts = HashMap::with_capacity(6);
        for (dictionary, list) in [
            (DictionaryType::Passwords, passwords),
            (DictionaryType::English, english),
            (DictionaryType::FemaleNames, female_names),
            (DictionaryType::MaleNames, male_names),
            (DictionaryType::Surnames, surnames),
            (DictionaryType::UsTvAndFilm, us_tv_and_film),
        ] {
            dicts.insert(
                dictionary,
                list.split(',')
                    .enumerate()
                    .map(|(i, x)| (x, i + 1))
                    .collect(),
            );
        }
        dicts
    };
}

#[cfg(test)]
mod tests {
    /// The embedded stream is exactly `data/*.txt`.
    #[test]
    fn embedded_lists_are_the_text_lists() {
        let text = [
            include_str!("../data/passwords.txt"),
            include_str!("../data/english_wiki.txt"),
            include_str!("../data/female_names.txt"),
            include_str!("../data/surnames.txt"),
            include_str!("../data/us_tv_and_film.txt"),
            include_str!("../data/male_names.txt"),
        ];
        let lists = super::lists();
        assert_eq!(lists.len(), text.len());
        for (list, text) in lists.iter().zip(text) {
            assert_eq!(*list, text.trim_end_matches('\n'));
        }
    }
}
