/**
 * The tag vocabulary for model packs that ship none of their own (the ConSE test pack, say):
 * everyday things people photograph, chosen by hand for SDL Tagger. It calibrates search (does a
 * term rank within a photo's top N?) and seeds auto-tagging. Every word is in the GloVe lexicon.
 */
// prettier-ignore
export const DEFAULT_VOCABULARY: readonly string[] = [
  'people', 'person', 'man', 'woman', 'child', 'baby', 'boy', 'girl', 'family', 'friends', 'crowd', 'portrait',
  'face', 'smile', 'wedding', 'bride', 'party', 'birthday', 'concert', 'festival', 'sport', 'football',
  'soccer', 'basketball', 'tennis', 'baseball', 'golf', 'running', 'cycling', 'bicycle', 'skiing', 'snowboard',
  'surfing', 'swimming', 'skateboard', 'dog', 'puppy', 'cat', 'kitten', 'horse', 'cow', 'sheep', 'goat', 'pig',
  'chicken', 'duck', 'bird', 'eagle', 'owl', 'parrot', 'pigeon', 'seagull', 'fish', 'shark', 'whale',
  'dolphin', 'turtle', 'frog', 'snake', 'lizard', 'insect', 'butterfly', 'bee', 'spider', 'elephant',
  'giraffe', 'zebra', 'lion', 'tiger', 'bear', 'monkey', 'deer', 'rabbit', 'squirrel', 'fox', 'wolf', 'animal',
  'pet', 'zoo', 'farm', 'flower', 'rose', 'tulip', 'sunflower', 'daisy', 'tree', 'forest', 'leaf', 'leaves',
  'grass', 'garden', 'park', 'plant', 'cactus', 'mushroom', 'fruit', 'apple', 'orange', 'banana', 'grape',
  'strawberry', 'lemon', 'vegetable', 'tomato', 'carrot', 'salad', 'bread', 'cake', 'pizza', 'sandwich',
  'burger', 'pasta', 'soup', 'coffee', 'tea', 'wine', 'beer', 'drink', 'food', 'dinner', 'breakfast',
  'restaurant', 'kitchen', 'table', 'chair', 'sofa', 'bed', 'bedroom', 'bathroom', 'window', 'door', 'room',
  'house', 'home', 'building', 'architecture', 'skyscraper', 'tower', 'bridge', 'church', 'castle', 'temple',
  'ruins', 'city', 'street', 'road', 'town', 'village', 'market', 'shop', 'museum', 'statue', 'monument',
  'fountain', 'car', 'truck', 'bus', 'train', 'tram', 'motorcycle', 'boat', 'ship', 'sailboat', 'airplane',
  'airport', 'station', 'harbor', 'traffic', 'sign', 'graffiti', 'beach', 'sea', 'ocean', 'coast', 'wave',
  'sand', 'island', 'lake', 'river', 'waterfall', 'pond', 'water', 'mountain', 'hill', 'valley', 'canyon',
  'desert', 'cliff', 'rock', 'cave', 'volcano', 'glacier', 'snow', 'ice', 'winter', 'summer', 'autumn',
  'spring', 'rain', 'fog', 'cloud', 'sky', 'sunset', 'sunrise', 'sun', 'moon', 'stars', 'night', 'storm',
  'lightning', 'rainbow', 'landscape', 'nature', 'countryside', 'field', 'meadow', 'farmland', 'vineyard',
  'camping', 'tent', 'hiking', 'travel', 'vacation', 'holiday', 'christmas', 'halloween', 'fireworks',
  'lights', 'candle', 'fire', 'smoke', 'book', 'computer', 'phone', 'camera', 'television', 'clock', 'toy',
  'ball', 'kite', 'umbrella', 'bag', 'hat', 'glasses', 'dress', 'shirt', 'shoes', 'jewelry', 'fashion', 'art',
  'painting', 'drawing', 'sculpture', 'music', 'guitar', 'piano', 'drum', 'dance', 'theater', 'stage',
  'school', 'office', 'hospital', 'police', 'soldier', 'military', 'flag', 'map', 'text', 'document',
  'screenshot', 'selfie', 'group', 'couple', 'kiss', 'love', 'dark', 'colorful', 'black', 'white', 'red',
  'blue', 'green', 'yellow', 'abstract', 'pattern', 'texture', 'macro', 'reflection', 'shadow', 'silhouette',
  'panorama', 'aerial', 'underwater', 'vintage'
]
