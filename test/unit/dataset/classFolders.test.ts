import assert from 'node:assert/strict';
import { classFolders, safeFolderName } from '../../../src/backend/dataset/classFolders';
import { compareClassNames, describeClass, knownClassLabel, preparedClasses } from '../../../src/shared/classes';

describe('class names and their folders', () => {
  it('keeps names that are safe folder names on every platform as they are', () => {
    for (const name of ['nv', 'unsure – review', 'Névus äöü', 'basal cell carcinoma', '良性', 'class.v2']) assert.equal(safeFolderName(name), name);
  });

  it('replaces what Windows or POSIX refuse, and never yields ., .. or a reserved device name', () => {
    assert.equal(safeFolderName('benign/malignant'), 'benign_malignant');
    assert.equal(safeFolderName('a\\b:c*d?e"f<g>h|i'), 'a_b_c_d_e_f_g_h_i');
    assert.equal(safeFolderName('tab\there'), 'tab_here');
    assert.equal(safeFolderName('ends with dot.'), 'ends with dot_');
    assert.equal(safeFolderName('..'), '__');
    assert.equal(safeFolderName('.hidden'), '_.hidden');
    assert.equal(safeFolderName(''), '_');
    assert.equal(safeFolderName('CON'), '_CON');
    assert.equal(safeFolderName('nul.txt'), '_nul.txt');
  });

  it('gives names that would share a folder on a case-insensitive file system folders of their own', () => {
    assert.deepEqual(classFolders(['Benign', 'benign', 'a/b', 'a_b']), ['Benign', 'benign-2', 'a_b', 'a_b-2']);
  });

  it('orders class names by code point (as Keras’ flow_from_directory does), HAM10000’s seven as always', () => {
    assert.deepEqual(['nv', 'akiec', 'vasc', 'bcc', 'mel', 'df', 'bkl'].sort(compareClassNames), ['akiec', 'bcc', 'bkl', 'df', 'mel', 'nv', 'vasc']);
    assert.deepEqual(['benign', 'Malignant', 'unsure – review', 'Ärger', 'b'].sort(compareClassNames), ['Malignant', 'b', 'benign', 'unsure – review', 'Ärger']);
  });

  it('knows the long names of HAM10000’s and ISIC 2019’s abbreviations, and only those', () => {
    assert.equal(knownClassLabel('mel'), 'Melanoma');
    assert.equal(knownClassLabel('scc'), 'Squamous cell carcinoma');
    assert.equal(knownClassLabel('ak'), 'Actinic keratosis');
    assert.equal(knownClassLabel('benign'), undefined);
    assert.equal(describeClass('mel', { mel: 'Melanoma' }), 'mel — Melanoma');
    assert.equal(describeClass('benign', {}), 'benign');
    assert.equal(describeClass('nv'), 'nv — Melanocytic nevus', 'a run from before labels were recorded keeps HAM10000’s long names');
  });

  it('reads a manifest from before classes were recorded as HAM10000’s, each class in a folder of its name', () => {
    const summary = { classes: [{ name: 'akiec' }, { name: 'nv' }] };
    assert.deepEqual(preparedClasses({ summary }), [
      { name: 'akiec', folder: 'akiec', label: 'Actinic keratosis / intraepithelial carcinoma' },
      { name: 'nv', folder: 'nv', label: 'Melanocytic nevus' },
    ]);
    const classes = [{ name: 'unsure – review', folder: 'unsure – review' }];
    assert.equal(preparedClasses({ classes, summary }), classes);
  });
});
