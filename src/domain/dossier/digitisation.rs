//! Digitisation of a dossier (design §7, Thông tư 01/2023): every component that must be
//! digitised has a file.

use super::Component;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digitisation {
    /// Every component that must be digitised has a file; when none must, some file exists.
    pub digitised: bool,
    /// Items that must be digitised and have no file yet, in checklist order.
    pub missing: Vec<String>,
}

/// The status from the components and the checklist items that have a file.
pub fn status<'a>(
    components: &[Component],
    filed_items: impl IntoIterator<Item = &'a str> + Clone,
) -> Digitisation {
    let has_file = |item: &str| filed_items.clone().into_iter().any(|f| f == item);
    let missing: Vec<String> = components
        .iter()
        .filter(|c| c.must_digitise && !has_file(&c.item_code))
        .map(|c| c.item_code.clone())
        .collect();
    let digitised = if components.iter().any(|c| c.must_digitise) {
        missing.is_empty()
    } else {
        filed_items.into_iter().next().is_some()
    };
    Digitisation { digitised, missing }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dossier::input::ComponentKind;

    fn component(code: &str, must: bool) -> Component {
        Component {
            item_code: code.into(),
            name: code.into(),
            required: true,
            must_digitise: must,
            kind: ComponentKind::Original,
            count: 1,
            pages: None,
        }
    }

    #[test]
    fn every_item_that_must_be_digitised_needs_a_file() {
        let cs = [
            component("A", true),
            component("B", false),
            component("C", true),
        ];
        let s = status(&cs, ["A"]);
        assert_eq!((s.digitised, s.missing), (false, vec!["C".to_owned()]));
        let s = status(&cs, ["C", "A"]);
        assert_eq!((s.digitised, s.missing.len()), (true, 0));
    }

    #[test]
    fn with_nothing_to_digitise_any_file_counts() {
        let cs = [component("A", false)];
        assert!(!status(&cs, []).digitised);
        assert!(status(&cs, ["A"]).digitised);
    }
}
